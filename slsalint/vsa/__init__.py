"""SLSA Verification Summary Attestations: produce (``check --vsa``), publish (``--vsa-push``),
verify (``verify-vsa``) and trust (``check --accept-vsa``). docs/vsa.md is the user guide.

Modules: ``predicate`` (the statement, in-toto-attestation types, schema), ``keys`` (cosign key
formats, signing, key ids), ``policy_digest`` (what the policy digest covers), ``produce`` (VSAs from
a report), ``verify`` (slsa-verifier's checks as findings), ``registry`` (attach and find VSAs),
``accept`` (passing an image by a VSA). Heavy imports (protobuf, PyNaCl) happen on first use.
"""
