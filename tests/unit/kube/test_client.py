from __future__ import annotations

import threading

import pytest

from ferry.kube import client as kube_client


def test_the_operator_builds_one_api_client_for_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []

    def load() -> object:
        built.append(object())
        return built[-1]

    monkeypatch.setattr(kube_client, "_shared", None)
    monkeypatch.setattr(kube_client, "load_api_client", load)
    seen: list[object] = []
    threads = [
        threading.Thread(target=lambda: seen.append(kube_client.shared_api_client())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and all(client is built[0] for client in seen)
