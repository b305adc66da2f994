#!/usr/bin/env python3
"""The layer check must be able to fail: each kind of violation, planted in
a small tree of its own, is reported; a clean tree passes."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_layers  # noqa: E402


def tree(files):
    root = tempfile.mkdtemp()
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)
    return root


CLEAN = {
    "include/tlbkit/core/error.hpp": "#pragma once\n",
    "include/tlbkit/pt/change.hpp": '#include "tlbkit/core/error.hpp"\n',
    "include/tlbkit/maint/gather.hpp": '#include "tlbkit/pt/change.hpp"\n',
    "src/maint/gather.cpp": '#include "tlbkit/maint/gather.hpp"\n#include "shapes.hpp"\n',
    "src/maint/shapes.hpp": "#pragma once\n",
}


class CheckLayers(unittest.TestCase):
    def problems(self, extra):
        files = dict(CLEAN)
        files.update(extra)
        problems, _ = check_layers.check(tree(files))
        return problems

    def test_a_clean_tree_passes(self):
        self.assertEqual(self.problems({}), [])

    def test_a_lower_layer_including_a_higher_one_is_refused(self):
        p = self.problems({"include/tlbkit/pt/table.hpp": '#include "tlbkit/maint/gather.hpp"\n'})
        self.assertEqual(len(p), 1)
        self.assertIn("layer 'pt' may not include 'tlbkit/maint/gather.hpp'", p[0])
        self.assertIn("include/tlbkit/pt/table.hpp:1", p[0])

    def test_siblings_may_not_include_each_other(self):
        p = self.problems({"include/tlbkit/exec/native.hpp": '#include "tlbkit/maint/gather.hpp"\n'})
        self.assertEqual(len(p), 1)
        self.assertIn("layer 'exec' may not include", p[0])

    def test_a_public_header_including_a_source_folder_is_refused(self):
        p = self.problems({"include/tlbkit/maint/planner.hpp": '#include "../../../src/maint/shapes.hpp"\n'})
        self.assertEqual(len(p), 1)
        self.assertIn("a public header includes", p[0])

    def test_reaching_into_another_folders_internal_header_is_refused(self):
        p = self.problems({"src/maint/baselines/kvm.cpp": '#include "../shapes.hpp"\n'})
        self.assertEqual(len(p), 1)
        self.assertIn("internal to another folder", p[0])

    def test_a_folder_that_is_no_layer_is_refused(self):
        p = self.problems({"src/policies/registry.cpp": "\n"})
        self.assertEqual(len(p), 1)
        self.assertIn("no layer", p[0])

    def test_the_diagram_lists_each_layers_dependencies_in_layer_order(self):
        _, edges = check_layers.check(tree(CLEAN))
        lines = check_layers.graph(edges).splitlines()
        self.assertIn("maint      -> pt", lines)
        self.assertIn("pt         -> core", lines)
        self.assertIn("core       -> (nothing)", lines)


if __name__ == "__main__":
    unittest.main()
