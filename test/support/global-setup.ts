// Replaced by the database bring-up (PGlite or TEST_DATABASE_URL) as the foundation lands.
export default async function setup(): Promise<void> {}
