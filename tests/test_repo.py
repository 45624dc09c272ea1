"""Repository rules: the README's two commands, CI running the test one verbatim, the
dependency direction, and no weights or data where they must not be."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import ROOT


def readme_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, re.S)


def test_readme_has_exactly_two_commands_and_ci_runs_the_second():
    cmds = readme_commands()
    assert len(cmds) == 2 and all("\n" not in c for c in cmds)
    assert "python app.py" in cmds[0] and "requirements.txt" in cmds[0]
    assert "pytest" in cmds[1]
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1].strip() == cmds[1].strip()
    assert "set -euo pipefail" in "\n".join(ci)


def test_requirements():
    req = (ROOT / "requirements.txt").read_text().lower()
    assert "diffusers" not in req
    assert re.search(r"^torch>=2\.1[4-9]", req, re.M), "torch must be bounded above the local 2.13 wheel"
    for pkg in ("torchvision", "gradio>=6.20,<7", "pillow>=12.2", "timm", "lpips", "scikit-image", "opencv-python-headless",
                "pandas", "plotly", "safetensors", "tqdm"):
        assert pkg in req, pkg


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            yield base


def test_dependency_direction():
    forbidden_for_models = ("metrics", "training", "benchmark", "gradio", "service", "inference")
    for f in list((ROOT / "hub" / "models").glob("*.py")) + list((ROOT / "hub" / "layers").glob("*.py")):
        for imp in _imports(f):
            assert not any(part in imp.split(".") for part in forbidden_for_models), f"{f.name} imports {imp}"
    for f in (ROOT / "hub").rglob("*.py"):
        for imp in _imports(f):
            # gradio_client (a remote client, used by the app benchmark) is fine; the UI library is not
            assert imp != "gradio" and not imp.startswith("gradio."), f"{f} imports gradio: only app.py may"
    for f in (ROOT / "hub" / "metrics").glob("*.py"):
        for imp in _imports(f):
            assert not re.match(r"^(\.+|hub\.)models", imp), f"metrics must not import the model zoo ({f.name}: {imp})"
    for imp in _imports(ROOT / "app.py"):
        assert not imp.startswith("hub.") or imp in ("hub.service", "hub.registry"), imp


def test_no_data_or_pickles_in_repo():
    import subprocess

    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert not [f for f in files if f.endswith((".pt", ".pth", ".pkl", ".ckpt", ".bin"))]
    shared = ROOT.parent / "shared" / "data"
    if shared.is_dir():
        names = {p.name for p in shared.rglob("*") if p.suffix.lower() in (".jpg", ".png")}
        assert not [f for f in files if Path(f).name in names and not f.startswith("examples/")]
