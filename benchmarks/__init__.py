"""Speed and memory benchmarks (`make bench`); each prints a final JSON line with its targets."""
