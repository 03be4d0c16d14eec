//! Login as one call: QR code, polling `checkLogin`, progress events.
