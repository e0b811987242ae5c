"""Charts for Slack (bot/charts.py): valid PNGs of a sensible size, alt text that says what they show,
no names where they may be public, and the shortlist cut-off drawn where the data puts it."""

import io

from PIL import Image

from bot.charts import (
    CUTOFF_COLOUR,
    DPI,
    HEIGHT_IN,
    PLOT_BOX,
    SCORE_RANGE,
    TIER_COLOURS,
    WIDTH_IN,
    ScoredPoint,
    cutoff_score,
    score_distribution,
    screening_scatter,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TIERS = ((85, "Top Tier"), (70, "Strong"), (55, "Good"), (40, "Evaluate"), (0, "Poor"))
NAMES = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Joan Clarke", "Edsger Dijkstra"]


def tier(score):
    return next(name for floor, name in TIERS if score >= floor)


def rgb(hex_colour):
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def columns_of(png, colour, rows):
    """x of every pixel column that holds ``colour`` (within a small tolerance) in the pixel ``rows``."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    target = rgb(colour)
    found = set()
    for y in rows:
        for x in range(image.width):
            if sum(abs(a - b) for a, b in zip(image.getpixel((x, y)), target, strict=True)) < 30:
                found.add(x)
    return sorted(found)


def plot_rows(png):
    """Pixel rows of the lower fifth of the plot area (below the legend, among the bars)."""
    height = Image.open(io.BytesIO(png)).height
    bottom = round((1 - PLOT_BOX[1]) * height)  # the x axis, counted from the top
    return range(bottom - int(PLOT_BOX[3] * height * 0.2), bottom - 2)


def expected_x(png, score):
    width = Image.open(io.BytesIO(png)).width
    low, high = SCORE_RANGE
    return (PLOT_BOX[0] + PLOT_BOX[2] * (score - low) / (high - low)) * width


def assert_png(png):
    assert png.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.size == (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
    assert 5_000 < len(png) < 300_000  # a real picture, small enough for a quick upload


SCORES = [93, 88, 86, 81, 77, 74, 72, 66, 64, 61, 58, 52, 47, 45, 38, 31, 22]


def test_the_distribution_is_a_png_with_alt_text_and_no_names():
    chart = score_distribution([(s, tier(s)) for s in SCORES], 5, run_label="engineers.csv")
    assert_png(chart.png)
    assert "Histogram" in chart.alt_text and "17 candidates" in chart.alt_text
    assert "cut-off at 77" in chart.alt_text and "5 shortlisted" in chart.alt_text
    assert "Top Tier 3" in chart.alt_text and len(chart.alt_text) <= 1000
    assert not any(name.split()[0] in chart.alt_text for name in NAMES)


def test_the_cut_off_line_is_drawn_where_the_data_puts_it():
    for top_n, cutoff in ((5, 77), (10, 61), (2, 88)):
        assert cutoff_score(SCORES, top_n) == cutoff
        chart = score_distribution([(s, tier(s)) for s in SCORES], top_n)
        xs = columns_of(chart.png, CUTOFF_COLOUR, plot_rows(chart.png))
        assert xs, "no cut-off line in the plot area"
        assert max(xs) - min(xs) <= 5  # one thin upright line
        centre = (min(xs) + max(xs)) / 2
        assert abs(centre - expected_x(chart.png, cutoff)) <= 2.5, (top_n, centre, expected_x(chart.png, cutoff))


def test_tiers_are_coloured():
    chart = score_distribution([(s, tier(s)) for s in SCORES], 5)
    rows = plot_rows(chart.png)
    for name in ("Top Tier", "Strong", "Poor"):
        assert columns_of(chart.png, TIER_COLOURS[name], rows), name


def test_a_run_with_fewer_candidates_than_the_shortlist_marks_the_lowest_score():
    chart = score_distribution([(70, "Strong"), (40, "Evaluate")], 10)
    assert "cut-off at 40" in chart.alt_text and "2 shortlisted" in chart.alt_text
    assert score_distribution([], 5).alt_text.startswith("Histogram of final scores: no candidate")


POINTS = [ScoredPoint(1, "Ada Lovelace", 91, 88, "advance"), ScoredPoint(2, "Alan Turing", 85, 40, "reject"),
          ScoredPoint(3, "Grace Hopper", 80, 62, None)]


def test_the_public_scatter_numbers_the_points_and_names_nobody():
    public = screening_scatter(POINTS, names=False, waiting=1)
    named = screening_scatter(POINTS, names=True, waiting=1)
    assert_png(public.png) and assert_png(named.png)
    for name in NAMES:
        assert name not in public.alt_text and name.encode() not in public.png
    assert "number on the Screening board" in public.alt_text
    assert "1 advanced, 1 rejected, 1 undecided" in public.alt_text and "1 more without an evaluation yet is not plotted" in public.alt_text
    assert "Ada Lovelace 91/88" in named.alt_text
    # the picture itself differs only by the labels: numbers drawn in public, names privately
    assert public.png != named.png
    relabelled = screening_scatter([ScoredPoint(p.position, str(p.position), p.pluto_score, p.evaluation_score,
                                                p.decision) for p in POINTS], names=True, waiting=1)
    assert _pixels(relabelled.png, crop_footnote=True) == _pixels(public.png, crop_footnote=True)


def test_the_scatter_colours_points_by_decision():
    chart = screening_scatter(POINTS, names=False)
    image = Image.open(io.BytesIO(chart.png)).convert("RGB")
    width, height = image.size

    def at(p):  # the pixel at a point's centre
        x = (PLOT_BOX[0] + PLOT_BOX[2] * p.pluto_score / 100) * width
        y = (1 - PLOT_BOX[1] - PLOT_BOX[3] * p.evaluation_score / 100) * height
        return image.getpixel((round(x), round(y)))

    assert at(POINTS[0]) == rgb("#2eb67d") and at(POINTS[1]) == rgb("#e01e5a") and at(POINTS[2]) == rgb("#616061")


def test_charts_are_the_same_bytes_for_the_same_data():
    data = [(s, tier(s)) for s in SCORES]
    assert score_distribution(data, 5).png == score_distribution(data, 5).png


def _pixels(png, crop_footnote=False):
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if crop_footnote:  # the footnote says whether names are shown
        image = image.crop((0, 0, image.width, int(image.height * 0.95)))
    return image.tobytes()
