export const benchUsage = 'tidegate-sim bench';
export async function benchCommand(_argv: string[]): Promise<number> {
  return 2;
}
