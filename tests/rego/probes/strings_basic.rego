package probe.strings_basic

import rego.v1

result := [
	upper("abc"), lower("ABC"), trim_space("  x  "), trim("xxaxx", "x"),
	trim_prefix("pkg:docker/a", "pkg:docker/"), trim_suffix("a.tar.gz", ".gz"),
	split("a/b/c", "/"), concat(",", ["a", "b"]), replace("aaa", "a", "b"),
	indexof("hello", "l"), substring("hello", 1, 3), contains("hello", "ell"),
	startswith("hello", "he"), endswith("hello", "lo"), strings.reverse("abc"),
]
