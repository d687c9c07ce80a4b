#include <linux/module.h>
#include <linux/smp.h>
unsigned int smpboot_rs_helper_cpu(void) { return raw_smp_processor_id(); }
