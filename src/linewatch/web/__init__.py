"""The web UI: server-rendered Jinja2 pages with small hand-written JS, assets served locally."""
