#!/usr/bin/env python3
"""Writes N rows of a Google Ads campaign report twice, for bench/preset.sh:

- as Google Ads' "Excel CSV" download: UTF-16LE with a byte-order mark, tab-separated, the report
  name and date-range lines before the header, numbers with thousands separators ("9,380"),
  ` --` for no value, and `Total: …` rows at the end;
- as the canonical `ad_spend` CSV (UTF-8, canonical column names) holding the same rows.

Deterministic (no randomness): campaign c on day d. Usage: gen_google_ads.py N OUT_DIR
"""
import datetime
import os
import sys

rows = int(sys.argv[1])
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
days = 730
campaigns = (rows + days - 1) // days
start = datetime.date(2024, 1, 1)


def name(c):
    # Some names hold a comma (quoted in the CSV) and some a non-ASCII letter.
    if c % 7 == 0:
        return f"Brand, DACH {c:05d} Müller"
    return f"Campaign {c:05d}"


def thousands(n):
    return f"{n:,}"


with open(os.path.join(out, "google-ads.csv"), "w", encoding="utf-16", newline="") as ads, open(
    os.path.join(out, "ad_spend.csv"), "w", encoding="utf-8", newline=""
) as canon:
    # encoding="utf-16" writes the BOM, little-endian on these machines.
    ads.write("Campaign report\n")
    ads.write(f"{start:%B} {start.day}, {start.year} - December 30, 2025\n")
    ads.write("Campaign\tDay\tCurrency code\tCost\tImpr.\tClicks\tConversions\n")
    canon.write("date,platform,campaign,impressions,clicks,cost,currency,conversions\n")
    n = 0
    total_cost = 0
    for c in range(campaigns):
        for d in range(days):
            if n == rows:
                break
            day = start + datetime.timedelta(days=d)
            impressions = 1000 + (c * 37 + d * 11) % 9000
            clicks = impressions // (10 + c % 20)
            cents = clicks * (50 + (c + d) % 400)
            conversions = clicks // 25
            cost = f"{cents // 100:,}.{cents % 100:02d}"
            total_cost += cents
            conv = " --" if conversions == 0 else thousands(conversions)
            campaign = name(c)
            quoted = f'"{campaign}"' if "," in campaign else campaign
            ads.write(
                f'{campaign}\t{day:%Y-%m-%d}\tUSD\t"{cost}"\t"{thousands(impressions)}"'
                f'\t"{thousands(clicks)}"\t{conv}\n'
            )
            canon.write(
                f"{day:%Y-%m-%d},google_ads,{quoted},{impressions},{clicks},"
                f"{cents // 100}.{cents % 100:02d},USD,{conversions if conversions else ''}\n"
            )
            n += 1
    ads.write(f"Total: Account\t --\tUSD\t\"{total_cost // 100:,}.{total_cost % 100:02d}\"\t --\t --\t --\n")
    ads.write("Total: Campaigns\t --\tUSD\t --\t --\t --\t --\n")
print(f"{n} rows in {out}/google-ads.csv (UTF-16LE) and {out}/ad_spend.csv")
