/**
 * The three-digit ZIP areas of 20,000 people or fewer, which HIPAA's Safe Harbor method (45 CFR 164.514(b)(2)(i)(B))
 * requires to be replaced by `000`. The rule: the initial three digits of a ZIP code may be kept only where the
 * geographic unit formed by all ZIP codes with those three digits contains more than 20,000 people, according to the
 * current publicly available data from the Bureau of the Census.
 *
 * Source: U.S. Department of Health and Human Services, Office for Civil Rights, "Guidance Regarding Methods for
 * De-identification of Protected Health Information in Accordance with the HIPAA Privacy Rule" (2012), section 2.4,
 * which lists the 17 restricted three-digit ZIP codes from the 2000 Census (Census 2000 ZCTA populations, summed by
 * three-digit ZIP): every other assigned three-digit ZIP area had more than 20,000 people. A three-digit value that
 * is not a ZIP area at all (fewer than five digits, letters, `000`) is also replaced by `000`.
 */
export const RESTRICTED_ZIP3: ReadonlySet<string> = new Set([
  '036',
  '059',
  '063',
  '102',
  '203',
  '556',
  '692',
  '790',
  '821',
  '823',
  '830',
  '831',
  '878',
  '879',
  '884',
  '890',
  '893',
]);

/** The census population threshold of the rule: a ZIP3 area must have more than this many people. */
export const ZIP3_MIN_POPULATION = 20_000;
