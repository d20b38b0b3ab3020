"""The optional compiled extension, ovsflow._speedups, and the grammars in the
wheel; the rest is pyproject.toml.

Without a C compiler (or Cython) the build warns (``pip install -v`` shows
it) and installs pure Python.
With OVSFLOW_REQUIRE_SPEEDUPS=1 (CI) a failed extension build fails the
install.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.errors import CompileError


class OptionalBuildExt(build_ext):
    """Cython's own errors count as compile errors, so optional=True skips
    them; and a module that fails to build leaves no older build of itself
    behind (in build/ or, for an editable install, beside the sources) to
    be shipped or imported in its place."""

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:
            if ext.optional:
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            if not ext.optional or not type(error).__module__.startswith("Cython"):
                raise
            raise CompileError(f"cython: {error}") from error


class BuildPyWithGrammars(build_py):
    """The grammars live at the top of the repository; a wheel ships them as
    ovsflow/grammars, where ovsflow._grammar looks first.  (A source checkout
    or an editable install reads them where they are.)"""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib, "ovsflow", "grammars")
        target.mkdir(parents=True, exist_ok=True)
        for grammar in Path("grammars").glob("*.lark"):
            shutil.copyfile(grammar, target / grammar.name)


REQUIRED = os.environ.get("OVSFLOW_REQUIRE_SPEEDUPS") == "1"

setup(
    ext_modules=[
        Extension("ovsflow._speedups", ["ovsflow/_speedups.pyx"], optional=not REQUIRED)
    ],
    cmdclass={"build_ext": OptionalBuildExt, "build_py": BuildPyWithGrammars},
)
