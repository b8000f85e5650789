// Placeholder: replaced by the database template setup. JEST_SKIP_DB=1 skips the database for pure unit runs.
export default async function globalSetup(): Promise<void> {
  if (process.env.JEST_SKIP_DB === '1') return;
}
