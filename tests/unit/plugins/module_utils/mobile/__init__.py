# tests of plugins/module_utils/mobile/ (a package, so that its test files may share basenames
# with those of other packages: mobile.test_rules, tlsprobe.test_rules)
