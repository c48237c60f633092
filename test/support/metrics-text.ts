/** The value of one series (`name{labels}` exactly as exposed) in a Prometheus text scrape; 0 if absent. */
export function sampleOf(scrape: string, series: string): number {
  const line = scrape.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}
