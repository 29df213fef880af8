"""Static files under content-hashed names (js/app.3f2a9c1b0d4e.js), cached for a year.

Templates keep writing url_for('static', filename='js/app.js') (and url_for('vendor', ...)
for the npm files): a url_defaults hook puts the hashed name in. The names are computed from
the files' contents when the app starts, in memory (nothing is written into the source
tree); `flask static-collect DIR` writes the same names into DIR for nginx to serve
(deploy/nginx/meguro.conf). A changed file gets a new name, so a year's cache never serves
an old one. The plain names still answer, revalidated at every use."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, abort, send_from_directory

ONE_YEAR = 60 * 60 * 24 * 365
IMMUTABLE = f"public, max-age={ONE_YEAR}, immutable"
HASH_LENGTH = 12


def hashed_name(name: str, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    path = Path(name)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


@dataclass
class Manifest:
    """Plain name → hashed name, and back, for one directory of files (or a mapping of
    names to files, for the npm ones)."""

    files: dict[str, Path]  # plain name → file
    hashed: dict[str, str] = field(default_factory=dict)
    plain: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_directory(cls, directory: Path) -> Manifest:
        files = {
            str(path.relative_to(directory)): path
            for path in sorted(directory.rglob("*"))
            if path.is_file() and not path.name.startswith(".")
        }
        return cls.of_files(files)

    @classmethod
    def of_files(cls, files: dict[str, Path]) -> Manifest:
        manifest = cls({name: path for name, path in files.items() if path.exists()})
        for name, path in manifest.files.items():
            hashed = hashed_name(name, path.read_bytes())
            manifest.hashed[name] = hashed
            manifest.plain[hashed] = name
        return manifest

    def url_name(self, name: str) -> str:
        return self.hashed.get(name, name)

    def resolve(self, requested: str) -> tuple[Path, bool] | None:
        """The file for a requested name and whether the name was the hashed one."""
        if requested in self.plain:
            return self.files[self.plain[requested]], True
        if requested in self.files:
            return self.files[requested], False
        return None

    def collect(self, target: Path) -> int:
        """Copy every file under its hashed name (and its plain one) into `target`."""
        for name, path in self.files.items():
            for out_name in (self.hashed[name], name):
                out = target / out_name
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, out)
        return len(self.files)


def _serve(manifest: Manifest, requested: str):
    found = manifest.resolve(requested)
    if found is None:
        abort(404)
    path, is_hashed = found
    response = send_from_directory(path.parent, path.name, max_age=ONE_YEAR if is_hashed else 0)
    response.headers["Cache-Control"] = IMMUTABLE if is_hashed else "no-cache"
    return response


def init_app(app: Flask, vendor_files: dict[str, Path]) -> None:
    static = Manifest.of_directory(Path(app.static_folder))
    vendor = Manifest.of_files(vendor_files)
    app.extensions["static_manifests"] = {"static": static, "vendor": vendor}

    @app.url_defaults
    def hashed_names(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = static.url_name(values["filename"])
        elif endpoint == "vendor" and "name" in values:
            values["name"] = vendor.url_name(values["name"])

    app.view_functions["static"] = lambda filename: _serve(static, filename)

    app.add_url_rule("/vendor/<path:name>", endpoint="vendor", view_func=lambda name: _serve(vendor, name))


def collect(app: Flask, target: Path) -> int:
    """Write every static and npm file under its hashed name into target/static and
    target/vendor (nginx's roots for /static/ and /vendor/)."""
    manifests = app.extensions["static_manifests"]
    return manifests["static"].collect(target / "static") + manifests["vendor"].collect(target / "vendor")
