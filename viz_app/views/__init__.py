"""One module per view; each has `render(sel: Selection) -> None`. app.py routes to them."""
