"""Linewatch — fault monitoring, dispatch and assurance for enterprise leased lines (集团客户专线)."""

__version__ = "0.1.0"
