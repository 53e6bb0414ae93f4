"""The ``groups`` of load_image_folder: each image file's group (a patient, say),
from a regular expression over its file name or a callable."""

import os
import re

import numpy as np


def _with_groups(data, groups):
    """``data`` with ``groups`` (see load_image_folder) added, and counted in
    its DESCR."""
    if groups is None:
        return data
    if callable(groups):
        found = [groups(path) for path in data.filenames]
    elif isinstance(groups, str):
        try:
            pattern = re.compile(groups)
        except re.error as exc:
            raise ValueError(
                f"`groups` is not a valid regular expression: {groups!r} ({exc})."
            ) from None
        found, unmatched = [], []
        for path in data.filenames:
            match = pattern.search(os.path.basename(path))
            if match is None:
                unmatched.append(str(path))
                continue
            # The first parenthesized group that took part in the match.
            taken = [g for g in match.groups() if g is not None]
            found.append(taken[0] if taken else match.group(0))
        if unmatched:
            shown = ", ".join(repr(p) for p in unmatched[:5])
            more = f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else ""
            raise ValueError(
                f"`groups` {groups!r} matches no part of the file name of "
                f"{len(unmatched)} of {len(data.filenames)} images: {shown}{more}."
            )
    else:
        raise TypeError(
            "`groups` must be a regular expression (str), a callable or None. "
            f"Received: groups={groups!r}"
        )
    data.groups = np.asarray(found)
    n_groups = len(np.unique(data.groups))
    data.DESCR += f" {n_groups} groups."
    return data
