// Suites start real servers and child processes: the same budget as the repository's integration project.
jest.setTimeout(60_000);
