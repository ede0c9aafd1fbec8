// jest globalTeardown: names what still keeps the process alive once every suite has finished (the
// suites run in band, in this process). A test that leaves a socket, a timer or a child process open
// kept jest from exiting after a green run, and CI ran into its time limit; `forceExit` in
// jest.config.js ends the run regardless, and this line says what to close.
module.exports = async () => {
  // Give sockets closed in the last afterAll a moment to finish closing.
  // (not unref'd: with nothing else open, an unref'd timer let the process end here, before jest
  // wrote its report, with exit code 0 even when a test had failed)
  await new Promise((r) => setTimeout(r, 500));
  const open = process.getActiveResourcesInfo().filter((k) => k !== 'TTYWrap');
  if (open.length) console.error(`\njest: still open after the last suite: ${open.join(', ')}`);
};
