# tests of plugins/module_utils/truststore/ (a package, so that its test files may share basenames
# with those of other packages)
