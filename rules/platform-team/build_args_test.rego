# Tests for PLT002 and PLT003, in the form `opa test` and conftest use (see base_images_test.rego).
package platform.build_args_test

import rego.v1

import data.platform.build_args

labels := {
	"label:org.opencontainers.image.source": "https://github.com/example/app",
	"label:org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
}

buildkit(mode, args) := {"provenance": {
	"flavor": "buildkit",
	"mode": mode,
	"buildArgs": args,
	"pointers": {"buildArgs": "/predicate/invocation/parameters"},
}}

test_labels_recorded_and_no_forbidden_args if {
	inp := buildkit("max", object.union(labels, {"build-arg:GOPROXY": "https://proxy.golang.org"}))
	count(build_args.deny) == 0 with input as inp
	count(build_args.warn) == 0 with input as inp
}

test_missing_and_empty_labels_are_denied if {
	inp := buildkit("max", {"label:org.opencontainers.image.revision": ""})
	expected := {"label:org.opencontainers.image.source", "label:org.opencontainers.image.revision"}
	denied := build_args.deny with input as inp
	{r.expected | some r in denied} == expected
}

test_verification_switches_warn if {
	inp := buildkit("max", object.union(labels, {"build-arg:GONOSUMDB": "*", "build-arg:GOINSECURE": "*"}))
	warned := build_args.warn with input as inp
	{r.actual | some r in warned} == {"build-arg:GONOSUMDB", "build-arg:GOINSECURE"}
	some r in warned
	r.pointer == "/predicate/invocation/parameters/build-arg:GOINSECURE"
	count(build_args.deny) == 0 with input as inp
}

test_mode_min_records_no_arguments_so_nothing_is_claimed if {
	inp := buildkit("min", {})
	count(build_args.deny) == 0 with input as inp
	count(build_args.warn) == 0 with input as inp
}
