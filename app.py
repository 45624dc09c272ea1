"""Inpainting Hub: upload a photo, paint a hole, compare every model; browse the leaderboard.

A thin Gradio layer over `hub.service`: functions first, then the Blocks layout, then launch.
Runs locally with `python app.py` and on Hugging Face Spaces as is (host/port from the
environment: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, 0.0.0.0 on Spaces).
"""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from gradio.data_classes import FileData  # noqa: E402

from hub import service  # noqa: E402
from hub.registry import list_models  # noqa: E402

ROOT = Path(__file__).resolve().parent
EXAMPLES = ROOT / "examples"
MAX_FILE_SIZE = "10mb"
QUEUE_SIZE = int(os.environ.get("HUB_QUEUE_SIZE", "16"))
RESULTS_DIR = Path(tempfile.gettempdir()) / "inpainting-hub"

GROUPS = service.model_groups()
CHOICES = [(service.choice_label(n), n) for names in GROUPS.values() for n in names]
DEFAULT_MODELS = [n for _, n in CHOICES]


class SafeImageEditor(gr.ImageEditor):
    """An ImageEditor that hands over file paths without decoding them, so that every photo
    (a pixel bomb included) reaches hub.io's loader, which checks size before decoding and
    answers with a plain message. Gradio's own preprocessing would decode first."""

    is_template = True  # render with ImageEditor's front end

    def convert_and_format_image(self, file, flatten_on_white: bool = False):
        if file is None:
            return None
        if isinstance(file, FileData):
            return file.path
        path = Path(self.GRADIO_CACHE) / f"editor-{uuid.uuid4().hex}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(file))
        return str(path)


# -- Inpaint tab ----------------------------------------------------------------------------

def inpaint(editor, mask_file, models, progress=gr.Progress()):
    """Run every selected model; returns gallery, score table, hole summary, zip, attention maps."""
    if not models:
        raise gr.Error("Pick at least one model.")
    try:
        rgb, _alpha, hole = service.editor_inputs(editor, mask_file)
    except service.UserError as exc:
        raise gr.Error(str(exc)) from None
    results = service.run_models(rgb, hole, models, progress)
    gallery = [(r.image if r.image is not None else _placeholder(rgb), r.caption) for r in results]
    cols, rows = service.score_table(results)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    zip_path = service.results_zip(results, str(RESULTS_DIR))
    attention = [(r.attention, r.name) for r in results if r.attention is not None]
    import pandas as pd

    return gallery, pd.DataFrame(rows, columns=cols), service.hole_summary(hole), zip_path, attention


def run_example(editor):
    """Examples run every available model; their results are cached on first use."""
    return inpaint(editor, None, DEFAULT_MODELS)


def _placeholder(rgb):
    import numpy as np

    return np.full_like(rgb, 40)


# -- Leaderboard tab ------------------------------------------------------------------------

def leaderboard(dataset, metric, mask_kind, overlay):
    """Table, chart, CSV path and a message (the message explains any missing data)."""
    try:
        df = service.load_leaderboard(dataset)
        table = service.leaderboard_table(df, metric, mask_kind)
        fig = service.leaderboard_figure(df, metric, mask_kind, service.load_reported() if overlay else None, dataset)
    except service.LeaderboardError as exc:
        return None, None, None, f"**{exc}**"
    note = ""
    if "note" in df.columns and df["note"].notna().any():
        note = f"Note: {df['note'].dropna().iloc[0]}"
    msg = (f"Measured by this hub at {int(df['eval_size'].iloc[0])} px, {int(df['n'].median())} images per bin. "
           "Dotted lines (when shown) are figures reported by the papers' authors on their own data and masks, "
           "not comparable one to one. " + note)
    return table, fig, str(service.LEADERBOARD_DIR / f"{dataset}.csv"), msg


# -- layout ---------------------------------------------------------------------------------

def build_demo() -> gr.Blocks:
    datasets = service.leaderboard_datasets()
    with gr.Blocks(title="Inpainting Hub", analytics_enabled=False) as demo:
        gr.Markdown("# Inpainting Hub\nClassic deep inpainting models and diffusion baselines, side by side. "
                    "Paint the area to fill (white brush), or upload a mask, and press **Run**.")
        with gr.Tab("Inpaint"):
            with gr.Row():
                with gr.Column(scale=3):
                    editor = SafeImageEditor(type="filepath", image_mode="RGBA", sources=["upload"], layers=False,
                                            transforms=(), format="png", label="Photo (paint the hole)",
                                            brush=gr.Brush(colors=["#ffffff"], color_mode="fixed", default_size=24),
                                            eraser=gr.Eraser(default_size=24), elem_id="editor")
                with gr.Column(scale=2):
                    models = gr.CheckboxGroup(CHOICES, value=DEFAULT_MODELS, label="Models (classical · faces · scenes)", elem_id="models")
                    mask_file = gr.File(label="Optional mask instead of painting (white = hole, same size as the photo)",
                                        file_types=["image"], type="filepath")
                    run_btn = gr.Button("Run", variant="primary", elem_id="run")
                    hole_md = gr.Markdown(elem_id="hole")
            gallery = gr.Gallery(label="Results", columns=4, height="auto", format="png", elem_id="results")
            scores = gr.Dataframe(label="Scores against your photo (L1 on the hole; PSNR, SSIM on the whole image)", elem_id="scores")
            with gr.Row():
                zip_out = gr.File(label="Download all results (zip)")
                attention = gr.Gallery(label="Contextual attention (colour = direction of the borrowed patch)", columns=4, format="png")
            outputs = [gallery, scores, hole_md, zip_out, attention]
            run_btn.click(inpaint, [editor, mask_file, models], outputs, api_name="inpaint",
                          concurrency_id="models", concurrency_limit=1)
            example_rows = [[{"background": str(EXAMPLES / f"{n}.png"), "layers": [str(EXAMPLES / f"{n}_mask.png")], "composite": None}]
                            for n in ("astronaut", "chelsea", "coffee") if (EXAMPLES / f"{n}.png").is_file()]
            if example_rows:
                gr.Examples(example_rows, inputs=[editor], outputs=outputs, fn=run_example, label="Examples",
                            cache_examples=True, cache_mode="lazy", api_name=False)
        with gr.Tab("Leaderboard"):
            with gr.Row():
                ds = gr.Dropdown(datasets, value=datasets[0] if datasets else None, label="Dataset")
                metric = gr.Dropdown([(v, k) for k, v in service.METRIC_LABELS.items()], value="l1", label="Metric")
                kind = gr.Dropdown(["irregular", "center", "square25", "freeform", "mosaic"], value="irregular", label="Mask kind")
                overlay = gr.Checkbox(label="Overlay figures reported in the papers", value=False)
            lb_msg = gr.Markdown()
            lb_plot = gr.Plot(label="Metric against hole ratio", elem_id="lb-plot")
            lb_table = gr.Dataframe(label="Models x bins (mean), median latency per image (ms), parameters", elem_id="lb-table")
            lb_csv = gr.File(label="CSV")
            lb_inputs = [ds, metric, kind, overlay]
            lb_outputs = [lb_table, lb_plot, lb_csv, lb_msg]
            for c in lb_inputs:
                c.change(leaderboard, lb_inputs, lb_outputs, api_name=False)
            demo.load(leaderboard, lb_inputs, lb_outputs, api_name=False)
        with gr.Tab("Models"):
            unavailable = service.unavailable_models()
            if unavailable:
                gr.Markdown("Not available right now: " + ", ".join(f"`{n}` ({s})" for n, s in sorted(unavailable.items())))
            for name in list_models():
                gr.Markdown(service.model_card_markdown(name))
    return demo


demo = build_demo()

if __name__ == "__main__":
    on_spaces = bool(os.environ.get("SPACE_ID"))
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0" if on_spaces else "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=MAX_FILE_SIZE,
        blocked_paths=[str(ROOT / "checkpoints"), str(ROOT / "leaderboard" / "results"), str(ROOT / "runs")],
        show_error=True,
    )
