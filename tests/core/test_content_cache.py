"""ContentCache: this process's memory in front of the shared cache."""

from __future__ import annotations

from django.core.cache import cache

from core.content_cache import ContentCache


def test_values_come_from_memory_then_from_the_shared_cache_after_forgetting():
    # given a value stored through one instance
    store = ContentCache(prefix="t:", timeout=60)
    store.set_many({"abc": "<li>card</li>"})
    assert cache.get("t:abc") == "<li>card</li>"
    # when the shared cache loses it, this process still has it
    cache.delete("t:abc")
    assert store.get_many(["abc", "missing"]) == {"abc": "<li>card</li>"}
    # and another process (its memory empty) finds it in the shared cache
    store.set_many({"def": "x"})
    store.clear_local()
    assert store.get_many(["abc", "def"]) == {"def": "x"}


def test_memory_is_bounded():
    store = ContentCache(prefix="t:", timeout=60, max_local=10)
    store.set_many({f"k{i}": i for i in range(8)})
    store.set_many({f"n{i}": i for i in range(5)})
    assert len(store._local) <= 10
    # everything is still found through the shared cache
    assert len(store.get_many([f"k{i}" for i in range(8)])) == 8
