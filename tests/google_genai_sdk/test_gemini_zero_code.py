"""``opentelemetry-instrument`` picks the instrumentor up through its entry point: one span per
call, priced with Gemini's cache read price, in the local store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wikitrace_otel.testing.fake_gemini import FakeGeminiServer, FakeResponse, payloads

MODEL = "gemini-2.5-flash"

_APP = """
from google import genai

client = genai.Client(api_key="k", http_options={{"base_url": "{base_url}"}})
client.models.generate_content(model="{model}", contents="Hi")
"""


def test_zero_code_one_priced_span(fake_gemini: FakeGeminiServer, tmp_path: Path) -> None:
    pytest.importorskip("genai_prices")
    from wikitrace_otel.pricing import PriceTable
    from wikitrace_otel.store import read_spans

    price = PriceTable().lookup("gcp.gemini", MODEL)
    assert price is not None
    usage = payloads.usage(1000, 50, cached=800, thoughts=30)
    fake_gemini.enqueue(FakeResponse.json(payloads.response(MODEL, usage_body=usage)))
    command = Path(sys.executable).with_name("opentelemetry-instrument")
    if not command.exists():
        command = Path(shutil.which("opentelemetry-instrument") or "opentelemetry-instrument")
    (tmp_path / "app.py").write_text(_APP.format(base_url=fake_gemini.base_url, model=MODEL))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "WIKITRACE_", "GOOGLE_", "GEMINI_"))}
    env.update(WIKITRACE_DIR=str(tmp_path / "store"), OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none")
    done = subprocess.run(
        [str(command), sys.executable, "app.py"], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr
    (span,) = list(read_spans(tmp_path / "store"))
    assert span.name == f"generate_content {MODEL}"
    found = span.attributes
    assert found["gen_ai.provider.name"] == "gcp.gemini"
    assert found["gen_ai.usage.output_tokens"] == 80
    expected = price.cost(input_tokens=1000, output_tokens=80, cache_read=800, reasoning=30)
    # 200 uncached at $0.30, 800 cache reads at $0.03, 80 out at $2.50 (per M)
    assert expected == pytest.approx((200 * 0.3 + 800 * 0.03 + 80 * 2.5) / 1e6)
    assert found["gen_ai.usage.cost.amount"] == pytest.approx(expected)
