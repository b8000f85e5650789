export default async function globalTeardown(): Promise<void> {
  if (process.env.JEST_SKIP_DB === '1') return;
}
