/* Unit tests of arch/x86_64/asid.h: children's TLB tags per CPU, their generations, and the
 * cases that must give a vCPU a fresh tag (another CPU, new nested tables, a wrap). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../arch/x86_64/asid.h"

static void test_first_entry_flushes_once(void **state)
{
	(void)state;
	struct asid_cpu c = { 0, 0 };
	struct asid_vcpu v = { .cpu = ~0u };
	assert_int_equal(asid_pick(&c, 0, 16, &v, 0), ASID_NEW_FLUSH_ALL);
	assert_int_equal(v.asid, 2);
	assert_int_equal(asid_pick(&c, 0, 16, &v, 0), ASID_KEEP);
	assert_int_equal(v.asid, 2);
	struct asid_vcpu w = { .cpu = ~0u };
	assert_int_equal(asid_pick(&c, 0, 16, &w, 0), ASID_NEW);   /* no flush: 3 never used */
	assert_int_equal(w.asid, 3);
}

static void test_migration_takes_fresh_tag(void **state)
{
	(void)state;
	struct asid_cpu c0 = { 0, 0 }, c1 = { 0, 0 };
	struct asid_vcpu v = { .cpu = ~0u };
	asid_pick(&c0, 0, 16, &v, 7);
	assert_int_equal(asid_pick(&c1, 1, 16, &v, 7), ASID_NEW_FLUSH_ALL);
	assert_int_equal(v.cpu, 1);
	/* Back on CPU 0: its old tag there is not reused (CPU 0 may have handed it out since). */
	uint32_t before = c0.next;
	assert_int_equal(asid_pick(&c0, 0, 16, &v, 7), ASID_NEW);
	assert_int_equal(v.asid, before);
	assert_int_equal(c0.next, before + 1);
}

static void test_npt_generation_change(void **state)
{
	(void)state;
	struct asid_cpu c = { 0, 0 };
	struct asid_vcpu v = { .cpu = ~0u }, w = { .cpu = ~0u };
	asid_pick(&c, 3, 16, &v, 1);
	asid_pick(&c, 3, 16, &w, 1);
	uint32_t old_v = v.asid;
	/* MPROTECT_EPT bumped the VM's generation: both vCPUs leave their tags behind. */
	assert_int_equal(asid_pick(&c, 3, 16, &v, 2), ASID_NEW);
	assert_int_not_equal(v.asid, old_v);
	assert_int_equal(asid_pick(&c, 3, 16, &w, 2), ASID_NEW);
	assert_int_not_equal(v.asid, w.asid);
	assert_int_equal(asid_pick(&c, 3, 16, &v, 2), ASID_KEEP);
}

static void test_wrap_starts_generation(void **state)
{
	(void)state;
	struct asid_cpu c = { 0, 0 };
	struct asid_vcpu v[20];
	unsigned flushes = 0;
	for (unsigned i = 0; i < 20; i++) {
		v[i] = (struct asid_vcpu){ .cpu = ~0u };
		enum asid_action a = asid_pick(&c, 0, 8, &v[i], 0);   /* tags 2..7 */
		assert_true(v[i].asid >= 2 && v[i].asid < 8);
		flushes += a == ASID_NEW_FLUSH_ALL;
	}
	assert_int_equal(flushes, 4);   /* first use, then after every 6 tags */
	/* A vCPU from an old generation takes a fresh tag, even if its number looks current. */
	assert_int_not_equal(v[0].gen, c.gen);
	assert_int_not_equal(asid_pick(&c, 0, 8, &v[0], 0), ASID_KEEP);
	/* No two vCPUs of the current generation share a tag. */
	for (unsigned i = 0; i < 20; i++)
		for (unsigned j = i + 1; j < 20; j++)
			if (v[i].gen == c.gen && v[j].gen == c.gen)
				assert_int_not_equal(v[i].asid, v[j].asid);
}

static void test_reset_tag_forces_new(void **state)
{
	(void)state;
	struct asid_cpu c = { 0, 0 };
	struct asid_vcpu v = { .cpu = ~0u };
	asid_pick(&c, 0, 16, &v, 0);
	v.asid = 0;   /* what svm_regs_write does for new CRs or EFER */
	assert_int_equal(asid_pick(&c, 0, 16, &v, 0), ASID_NEW);
	assert_int_equal(v.asid, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_entry_flushes_once),
		cmocka_unit_test(test_migration_takes_fresh_tag),
		cmocka_unit_test(test_npt_generation_change),
		cmocka_unit_test(test_wrap_starts_generation),
		cmocka_unit_test(test_reset_tag_forces_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
