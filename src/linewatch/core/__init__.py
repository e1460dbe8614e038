"""The shared kernel: clock, policy, errors, labelled enumerations. Imports no domain package."""
