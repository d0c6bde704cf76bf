// Runs every project's tests from the root: `npx jest`. (Plain JavaScript: a .ts config
// would need ts-node.)
const { getJestProjectsAsync } = require('@nx/jest');

module.exports = async () => ({
  projects: await getJestProjectsAsync(),
});
