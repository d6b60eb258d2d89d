"""Speed measurements of twolayer_jax: ``python -m benchmarks.throughput`` (see RESULTS.md)."""
