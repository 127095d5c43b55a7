"""Several threads and processes on one store: queries while another process or thread indexes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from test_index import make_spans

from wikitrace_otel.exporters import FileSpanExporter
from wikitrace_otel.query import QueryStore, TraceFilter

# Writes `rounds` batches of `per_round` traces and indexes after each, merging eagerly and deleting
# merged parts at once, so readers in other processes see parts vanish under them.
INDEXER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[4])
    from test_index import make_spans
    from wikitrace_otel.exporters import FileSpanExporter
    from wikitrace_otel.query import QueryStore, _parts

    _parts.MERGE_FAN_IN, _parts.RETIRE_SECONDS = 2, 0.0
    root, rounds, per_round = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    exporter = FileSpanExporter(root)
    with QueryStore(root) as store:
        for _ in range(rounds):
            exporter.export(make_spans(per_round))
            store.refresh()
    print(store.span_count)
    """
)


def test_one_process_indexes_while_another_queries(store_dir: Path) -> None:
    here = str(Path(__file__).parent)
    indexer = subprocess.Popen(
        [sys.executable, "-c", INDEXER, str(store_dir), "30", "5", here], stdout=subprocess.PIPE, text=True
    )
    seen: list[int] = []
    with QueryStore(store_dir) as store:
        try:
            while indexer.poll() is None:
                traces = store.list_traces(TraceFilter(limit=1000))
                seen.append(len(traces))
                if traces:
                    assert store.get_trace(traces[-1]["trace_id"]) is not None
                    assert sum(row["calls"] for row in store.stats("model")) >= len(traces)
        except BaseException:
            indexer.kill()  # leave no process behind a failed check
            indexer.communicate()
            raise
        out, _ = indexer.communicate(timeout=60)
        assert indexer.returncode == 0
        assert int(out) == 300
        assert seen == sorted(seen)  # never goes back
        assert len(store.list_traces(TraceFilter(limit=1000))) == 150


def test_two_processes_refreshing_never_index_a_span_twice(store_dir: Path) -> None:
    FileSpanExporter(store_dir).export(make_spans(40))
    script = "import sys; from wikitrace_otel.query import QueryStore; QueryStore(sys.argv[1]).refresh()"
    refreshers = [subprocess.Popen([sys.executable, "-c", script, str(store_dir)]) for _ in range(2)]
    with QueryStore(store_dir) as store:
        store.refresh()
        for process in refreshers:
            assert process.wait(timeout=60) == 0
        assert store.span_count == 80
        assert sum(trace["span_count"] for trace in store.list_traces(TraceFilter(limit=1000))) == 80


def test_threads_query_while_one_refreshes(store_dir: Path) -> None:
    exporter = FileSpanExporter(store_dir)
    errors: list[BaseException] = []
    done = threading.Event()
    with QueryStore(store_dir) as store:

        def query() -> None:
            try:
                while not done.is_set():
                    for trace in store.list_traces(TraceFilter(limit=5)):
                        assert store.get_trace(trace["trace_id"])
                    store.stats("user")
            except BaseException as error:  # noqa: BLE001 - handed to the test thread
                errors.append(error)

        readers = [threading.Thread(target=query) for _ in range(3)]
        for thread in readers:
            thread.start()
        refreshers = []
        for _ in range(10):
            exporter.export(make_spans(3))
            refreshers.append(threading.Thread(target=store.refresh))  # refreshes from several threads at once too
            refreshers[-1].start()
            store.refresh()
        for thread in refreshers:
            thread.join(30)
        done.set()
        for thread in readers:
            thread.join(30)
        assert errors == []
        assert store.span_count == 60
