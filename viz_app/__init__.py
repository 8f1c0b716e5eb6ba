"""rnnscope's Streamlit app: thin wiring over pure chart functions.

Run it with `streamlit run viz_app/app.py` or the `rnnscope` command. The chart
functions (`viz_app.charts`, `viz_app.diagram`, `viz_app.equations`) take a
`cells.Trace` or an Analysis and return plotly figures or text; they never call
Streamlit, so they work in a notebook too.
"""
