"""The drawing kit: the figures, number formats and page pieces that both the claims report
(fgcore.report) and `fgcore measure`'s page (fgcore.measure.page) are made of. It imports neither.

    render.py       render(kind, data) -> PNG / SVG bytes, the same for the same data; KINDS: kind -> function
    style.py        the fixed look: matplotlib's defaults plus STYLE, DEFAULT_DPI, the colour-blind-safe PALETTE
    inputs.py       reading a figure's data (a ValueError naming what is missing or malformed)
    collapse.py     the collapse family over epochs (from fgcore.metrics.METRICS) and NC1 layer by layer
    distances.py    the class distance matrices D and the darkness of their lines
    embeddings.py   t-SNE per superclass, and the overview (t-SNE with the NC1 curve)
    bars.py         CLP against LPO and OT (with CLP's clusters scored), distance ratio per kind of superclass
    ratios.py       distance ratios against sigma^2, tau^2 or the input dimension
    grids.py        the learning-rate x weight-decay grid: training errors, CLP per configuration
    page.py         figures as a page shows them: PNG data URIs drawn once each (in parallel), or their data
    format.py       numbers and names as pages write them
    html.py         the Jinja2 environment of a page: its own templates and the kit's (templates/)

Figures are drawn without pyplot and without torch (the claims report is built in a process that does
not import it). matplotlib is imported by the figure modules only: importing the package, format.py or
html.py does not import it.
"""
