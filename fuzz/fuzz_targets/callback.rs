//! GeWe's callback deliveries, classified into `gewe::events::Event`.
//!
//! Input: one byte of mode, then bytes. Even modes parse the bytes as a whole delivery; odd modes
//! put them, as text, into the `Content` of a message delivery (the XML reader's input), with a
//! `MsgType` from the mode: the kind table's codes (`MsgType::KNOWN`), then codes it does not
//! name. Checks beyond "no panic": the event keeps the delivery whole
//! (`raw()` equals the input), and every helper runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../src/oracle.rs"]
mod oracle;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if let Some(delivery) = oracle::callback_delivery(mode, rest) {
        oracle::check_callback(&delivery);
    }
});
