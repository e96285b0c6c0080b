"""Code that the Python peers generate at run time from the contract's IDL,
with Debian's compilers (protoc, thrift): one way to find the compiler, run
it into a temporary directory, and import what it wrote."""

import importlib
import os
import shutil
import subprocess
import sys
import tempfile


def find_tool(name):
    """Debian's binary first (its Python modules match it), else the PATH's."""
    debian = "/usr/bin/" + name
    if os.access(debian, os.X_OK):
        return debian
    return shutil.which(name)


def tool_version(tool, prefix):
    """The tool's --version output, without its name."""
    run = subprocess.run([tool, "--version"], capture_output=True, text=True)
    return run.stdout.strip().replace(prefix, "") or "?"


def compile_and_import(args_for, modules, prefix):
    """Runs a compiler into a fresh directory (`args_for(out)` is its command
    line), imports `modules` from it, and removes the directory.

    Returns (the modules, None), or (None, an error message)."""
    out = tempfile.mkdtemp(prefix=prefix)
    try:
        run = subprocess.run(args_for(out), capture_output=True, text=True)
        if run.returncode != 0:
            return None, "%s failed (exit %d): %s" % (
                os.path.basename(args_for(out)[0]), run.returncode, (run.stderr or run.stdout).strip())
        sys.path.insert(0, out)
        try:
            return [importlib.import_module(name) for name in modules], None
        finally:
            sys.path.remove(out)
    except ImportError as error:
        return None, "cannot import the generated code: %s" % error
    finally:
        shutil.rmtree(out, ignore_errors=True)
