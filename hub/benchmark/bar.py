"""`python -m hub.benchmark.bar`: the trained checkpoints against the quality bar.

Reads the committed leaderboard CSVs (never re-runs a model), compares every trained
checkpoint with both classical baselines (Telea and Navier-Stokes) on its own domain's test
set, writes the verdict into the checkpoint's model card (`quality_bar`), and writes
`leaderboard/quality_bar.md`: the per-bin L1 table and the verdicts, so a checkpoint that
misses the bar is reported as such next to the one that meets it.

The bar (issue 6; 256x256, 50 images per bin or mask kind):
- faces/test, every faces checkpoint: lower L1 and higher SSIM than both baselines on the
  central square and on the fixed 25% square, lower L1 in the irregular bins 40-50% and 50-60%;
- scenes/test: lower L1 than both baselines on the central square and in bin 50-60%; the
  domain passes when at least three scenes checkpoints do.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[2]
BASELINES = ("cv2_telea", "cv2_ns")
# (mask_kind, bin, metric, higher_is_better)
RULES: Dict[str, List[Tuple[str, str, str, bool]]] = {
    "faces": [("center", "fixed", "l1", False), ("center", "fixed", "ssim", True),
              ("square25", "fixed", "l1", False), ("square25", "fixed", "ssim", True),
              ("irregular", "40-50%", "l1", False), ("irregular", "50-60%", "l1", False)],
    "scenes": [("center", "fixed", "l1", False), ("irregular", "50-60%", "l1", False)],
}
MIN_PASSING = {"faces": None, "scenes": 3}   # None: every checkpoint must pass
TABLE_COLUMNS = [("center", "fixed"), ("square25", "fixed")] + [("irregular", b) for b in
                                                                 ("0-10%", "10-20%", "20-30%", "30-40%", "40-50%", "50-60%")]


def read_leaderboard(path: Path) -> Dict[Tuple[str, str, str], Dict[str, str]]:
    """(model, mask_kind, bin) -> CSV row."""
    with open(path, newline="") as f:
        return {(r["model"], r["mask_kind"], r["bin"]): r for r in csv.DictReader(f)}


def _value(rows, model: str, kind: str, b: str, metric: str) -> Optional[float]:
    r = rows.get((model, kind, b))
    v = r.get(f"{metric}_mean", "") if r else ""
    return float(v) if v not in ("", None) else None


def judge(rows, model: str, domain: str) -> Dict:
    """Every check of the domain's rule for one checkpoint; missing figures fail the check."""
    checks = []
    for kind, b, metric, higher in RULES[domain]:
        mine = _value(rows, model, kind, b, metric)
        base = {bl: _value(rows, bl, kind, b, metric) for bl in BASELINES}
        ok = mine is not None and all(v is not None for v in base.values()) and all(
            (mine > v) if higher else (mine < v) for v in base.values())
        checks.append({"mask": kind if b == "fixed" else f"{kind} {b}", "metric": metric, "value": mine,
                       **{bl: v for bl, v in base.items()}, "pass": bool(ok)})
    return {"checks": checks, "passes": all(c["pass"] for c in checks)}


def read_boards(leaderboard_dir: Path) -> Dict[str, Dict]:
    """domain -> its leaderboard rows, for the domains that have a bar and a CSV."""
    paths = {d: leaderboard_dir / f"{d}.csv" for d in RULES}
    return {d: read_leaderboard(p) for d, p in paths.items() if p.is_file()}


def evaluate(leaderboard_dir: Path, checkpoints: Sequence[Tuple[str, str]]) -> Dict[str, Dict]:
    """checkpoints: (name, domain). Returns name -> verdict (domain, dataset, checks, passes)."""
    boards = read_boards(leaderboard_dir)
    return {name: {"domain": domain, "dataset": f"{domain}/test", **judge(boards.get(domain, {}), name, domain)}
            for name, domain in checkpoints if domain in RULES}


def domain_summary(verdicts: Dict[str, Dict]) -> Dict[str, Dict]:
    summary = {}
    for domain, need in MIN_PASSING.items():
        mine = [v for v in verdicts.values() if v["domain"] == domain]
        passing = sum(v["passes"] for v in mine)
        met = (passing >= need) if need is not None else (bool(mine) and passing == len(mine))
        summary[domain] = {"checkpoints": len(mine), "passing": passing, "needed": need if need is not None else len(mine), "met": met}
    return summary


def training_rows(cards: Dict[str, Dict]) -> List[str]:
    """A markdown table of how each checkpoint was made, from its card (warm starts count the
    parent's steps and images too)."""
    lines = ["| checkpoint | architecture | steps | images seen | wall time (min) | warm start from |", "|---|---|---|---|---|---|"]
    for name in sorted(cards):
        c = cards[name]
        ws = c.get("warm_start") or {}
        steps, seen = c.get("steps", 0), c.get("images_seen", 0)
        if ws:
            steps_txt = f"{steps:,} (+{ws.get('parent_steps') or 0:,})"
            seen_txt = f"{seen:,} (+{ws.get('parent_images_seen') or 0:,})"
        else:
            steps_txt, seen_txt = f"{steps:,}", f"{seen:,}"
        arch = ", ".join(f"{k}={v}" for k, v in c.get("arch", {}).items() if not isinstance(v, (list, dict)))
        lines.append(f"| {name} | {c.get('arch_variant', '')} ({arch}) | {steps_txt} | {seen_txt} | "
                     f"{c.get('wall_time_s', 0) / 60:.0f} | {ws.get('from', '')} |")
    return lines


def markdown(leaderboard_dir: Path, verdicts: Dict[str, Dict], cards: Optional[Dict[str, Dict]] = None) -> str:
    lines = ["# Quality bar", "", "Written by `python -m hub.benchmark.bar` from the leaderboard CSVs (256x256, "
             "50 images per bin or mask kind). L1 in % of the whole image (lower is better); a check passes "
             "when the checkpoint beats both Telea and Navier-Stokes.", ""]
    for domain, s in domain_summary(verdicts).items():
        lines.append(f"- **{domain}**: {s['passing']} of {s['checkpoints']} checkpoints pass their checks "
                     f"(needed: {s['needed']}) -> bar {'met' if s['met'] else 'not met'}")
    for domain, rows in read_boards(leaderboard_dir).items():
        models = list(BASELINES) + sorted(n for n, v in verdicts.items() if v["domain"] == domain)
        lines += ["", f"## {domain}/test: L1 % per mask kind and irregular bin", "",
                  "| model | " + " | ".join(k if b == "fixed" else b for k, b in TABLE_COLUMNS) + " | verdict |",
                  "|---" * (len(TABLE_COLUMNS) + 2) + "|"]
        for m in models:
            cells = []
            for k, b in TABLE_COLUMNS:
                v = _value(rows, m, k, b, "l1")
                cells.append("" if v is None else f"{v:.2f}")
            verdict = "baseline" if m in BASELINES else ("passes" if verdicts[m]["passes"] else
                      "misses: " + ", ".join(f"{c['mask']} {c['metric']}" for c in verdicts[m]["checks"] if not c["pass"]))
            lines.append(f"| {m} | " + " | ".join(cells) + f" | {verdict} |")
    if cards:
        lines += ["", "## How each checkpoint was made (from its model card)", "", *training_rows(cards)]
    return "\n".join(lines) + "\n"


def update_cards(verdicts: Dict[str, Dict], checkpoint_dir: Path, files: Optional[Dict[str, str]] = None) -> List[str]:
    """Write each verdict into its card (the card is not covered by the weights' sha256).
    files: checkpoint name -> weights file name (default: hub/pretrained.json)."""
    from ..checkpoint import write_card

    if files is None:
        from ..pretrained import load_table

        files = {row.name: row.file for row in load_table()}
    written = []
    for name, verdict in verdicts.items():
        card_path = (checkpoint_dir / files.get(name, name + ".safetensors")).with_suffix(".json")
        if not card_path.is_file():
            continue
        card = json.loads(card_path.read_text())
        card.pop("benchmark_faces_test_256", None)
        card["quality_bar"] = verdict
        write_card(card_path, card)
        written.append(card_path.name)
    return written


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hub.benchmark.bar", description=__doc__.splitlines()[0])
    p.add_argument("--leaderboard", default=str(ROOT / "leaderboard"))
    p.add_argument("--checkpoints", default=None, help="checkpoint folder whose cards are updated (default: the hub's)")
    p.add_argument("--no-write", action="store_true", help="print only")
    a = p.parse_args(argv)
    from ..checkpoint import CHECKPOINT_DIR, read_card
    from ..pretrained import load_table

    lb = Path(a.leaderboard)
    table = load_table()
    ck_dir = Path(a.checkpoints) if a.checkpoints else CHECKPOINT_DIR
    verdicts = evaluate(lb, [(r.name, r.domain) for r in table])
    cards = {r.name: read_card(ck_dir / r.file) for r in table}
    text = markdown(lb, verdicts, {k: v for k, v in cards.items() if v})
    print(text)
    if not a.no_write:
        (lb / "quality_bar.md").write_text(text)
        for f in update_cards(verdicts, ck_dir):
            print(f"card updated: {f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
