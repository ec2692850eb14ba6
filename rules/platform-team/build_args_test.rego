# Tests for PLT002 and PLT003 (inputs from testdata/, see base_images_test.rego).
package platform.build_args_test

import rego.v1

import data.platform.build_args

# METADATA
# custom:
#   input: testdata/allowed.input.json
test_labels_recorded_and_no_forbidden_args if {
	count(build_args.deny) == 0
	count(build_args.warn) == 0
}

# METADATA
# custom:
#   input: testdata/missing-labels.input.json
test_missing_and_empty_labels_are_denied if {
	expected := {"label:org.opencontainers.image.source", "label:org.opencontainers.image.revision"}
	{r.expected | some r in build_args.deny} == expected
}

# METADATA
# custom:
#   input: testdata/insecure-args.input.json
test_verification_switches_warn if {
	{r.actual | some r in build_args.warn} == {"build-arg:GONOSUMDB", "build-arg:GOINSECURE"}
	count(build_args.deny) == 0
}

# METADATA
# custom:
#   input: testdata/mode-min-untrusted.input.json
test_mode_min_records_no_arguments_so_nothing_is_claimed if {
	count(build_args.deny) == 0
	count(build_args.warn) == 0
}
