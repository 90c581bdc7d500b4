#!/bin/sh
# iOS build-step integration: an Xcode "Run Script" build phase, placed before "Copy
# Bundle Resources". It runs `edgeq build --config edgeq.yaml --profile`; a missed gate
# exits with status 3, which fails the build in Xcode and in xcodebuild alike.
#
#   Shell:       /bin/sh
#   Script:      "${SRCROOT}/ml/edgeq-build-phase.sh"
#   Input files: $(SRCROOT)/ml/edgeq.yaml
#   Output files: $(SRCROOT)/ml/build/ane/model.mlpackage
#
# Add ml/build/ane/model.mlpackage to the app target once (Xcode compiles it to .mlmodelc).
# `edgeq` must be on the build's PATH (e.g. a virtual environment in the CI image) or
# named by EDGEQ. Documented here; not run by edgeq's tests.
set -eu
EDGEQ="${EDGEQ:-edgeq}"
cd "${SRCROOT}/ml"
"${EDGEQ}" build --config edgeq.yaml --target ane --profile --junit build/edgeq-gates.xml
