class PairingError extends Error {
  constructor(message) {
    super(message);
    this.name = "PairingError";
  }
}

// Fails with a named domain error, as the workflow's steps do.
export const handler = async (event) => {
  throw new PairingError(`cannot pair ${event.pair}`);
};
