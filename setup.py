"""The package layout; all other metadata is in pyproject.toml.

The source tree keeps its top-level folders (``engine/``, ``desktop/``, ``resources/``). The wheel
installs ``resources/`` inside the engine package (``engine/resources/``) as package data, where
``engine.paths.resources_dir()`` finds it, so an installed copy works away from the checkout.
Sub-packages are discovered, so a new package under engine/ or desktop/ needs no change here.
"""

from setuptools import find_packages, setup

# The import-name prefix. Installing the folders as interreid.engine / interreid.desktop is this
# one line (PREFIX = "interreid.") plus the entry points in pyproject.toml and the imports.
PREFIX = "interreid."

_found = find_packages(include=["engine", "engine.*", "desktop", "desktop.*"])
setup(
    packages=[PREFIX + name for name in _found] + [PREFIX + "engine.resources"],
    package_dir={PREFIX + "engine": "engine", PREFIX + "desktop": "desktop",
                 PREFIX + "engine.resources": "resources"},
    package_data={"": ["*.json", "*.yaml"], PREFIX + "engine.resources": ["**/*"]},
    include_package_data=False,
)
