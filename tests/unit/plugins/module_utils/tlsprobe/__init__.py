# tests of plugins/module_utils/tlsprobe/ (a package, so that its test files may share basenames
# with those of other packages: tlsprobe.test_rules, mobile.test_rules)
