#!/usr/bin/env python3
"""Writes N generated journeys in the ChannelAttribution paths format, one row per journey.

Deterministic for a seed (Python's random.Random): 12 channels with skewed popularity, path
lengths 1.. about 30 (geometric, mean ~4), repeat visits on the same channel, a conversion rate of
about 20 % that rises with some channels and with length, lognormal values.
"""
import argparse
import random

CHANNELS = ["Organic Search", "Paid Search", "Direct", "Email", "Paid Social", "Organic Social",
            "Referral", "Display", "Affiliates", "Webinars", "Partners", "Events"]
POPULARITY = [30, 22, 18, 10, 8, 6, 5, 4, 3, 2, 1.5, 0.5]
LIFT = {"Email": 0.10, "Webinars": 0.15, "Events": 0.12, "Paid Search": 0.04, "Display": -0.08}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journeys", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with open(args.out, "w") as f:
        f.write("path;total_conversions;total_conversion_value;total_null\n")
        for _ in range(args.journeys):
            length = 1
            while length < 30 and rng.random() < 0.72:
                length += 1
            path = []
            for _ in range(length):
                if path and rng.random() < 0.3:
                    path.append(path[-1])
                else:
                    path.append(rng.choices(CHANNELS, POPULARITY)[0])
            p = 0.12 + 0.01 * length + sum(LIFT.get(c, 0.0) for c in set(path)) / 2
            converted = rng.random() < min(max(p, 0.01), 0.9)
            value = round(rng.lognormvariate(8.0, 0.8), 2) if converted else 0
            f.write(f"{' > '.join(path)};{int(converted)};{value};{int(not converted)}\n")


if __name__ == "__main__":
    main()
