// SPDX-License-Identifier: GPL-2.0
//! smpboot_rs
use kernel::prelude::*;
module! { type: SmpbootRs, name: "smpboot_rs", author: "smpboot_rs", description: "x", license: "GPL", }
struct SmpbootRs;
extern "C" { fn smpboot_rs_helper_cpu() -> u32; }
impl kernel::Module for SmpbootRs {
    fn init(_m: &'static ThisModule) -> Result<Self> {
        // SAFETY: test
        pr_info!("hello {}\n", unsafe { smpboot_rs_helper_cpu() });
        Ok(SmpbootRs)
    }
}
