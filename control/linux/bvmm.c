// SPDX-License-Identifier: GPL-2.0
/*
 * bvmm.c - /dev/vmm for a Linux control guest of the bvmm hypervisor.
 *
 * The vmm(4) ioctls (OpenBSD's numbers, abi/bvmm.h) become bvmm hypercalls. The hypervisor
 * walks the current page tables for every address it is given, so each parameter structure
 * and buffer is copied into kernel memory first and the hypercall is given kernel
 * addresses only: user space never has the hypervisor read or write through a pointer of
 * its choosing. The hypervisor validates every argument; this driver only bounds what it
 * allocates from user input.
 *
 * CREATE: every page of the caller's guest-memory ranges is pinned (FOLL_LONGTERM) and the
 * hypervisor is shown exactly those pages, through a temporary vmap() of them in place of
 * each vmr_va. (Given the user address, it would map whatever the user's page tables held at
 * the instant of its walk, which a concurrent munmap() or MADV_DONTNEED could make a page
 * that is not pinned.) The pages stay pinned until the VM is terminated: by a TERM through
 * any /dev/vmm file, or when the file that created it is released.
 *
 * Concurrency. Any ioctl may run on any CPU at the same time as any other, from threads of
 * one process or from several processes. The hypervisor keeps the vCPU states itself (RUN,
 * RESETCPU, READREGS, WRITEREGS, MPROTECT_EPT of a vCPU running elsewhere answer EBUSY), so
 * those ioctls need no lock here. What this driver keeps is one record per VM (its pinned
 * pages), in one table found by VM id, so that a TERM through another file unpins at once:
 *  - bvmm_vms_lock is held across the CREATE and TERM hypercalls. A VM id is usable by every
 *    thread the instant CREATE returns; a TERM in the gap before the record is entered would
 *    find none, and the pages would stay pinned.
 *  - Pages are unpinned only after TERM returned 0 (or ENOENT): TERM of a VM whose vCPU runs
 *    on another CPU stops that vCPU and waits for it, and that RUN returns ENOENT, so no CPU
 *    reaches the pages any more.
 *  - release() runs when the last reference to the file is gone. A thread inside an ioctl
 *    of the file holds a reference (fdget takes one whenever the file table is shared), so
 *    release never overlaps an ioctl of its own file; RUNs through other files on its VMs
 *    end with ENOENT once release has terminated them.
 *  - A hypercall is an instruction of the CPU running the ioctl, and only CPUs under bvmm
 *    can execute it (elsewhere vmmcall raises #UD in the kernel): bvmm_cpus records which
 *    CPUs carry the signature (at load and whenever a CPU comes online), and each call is
 *    checked and made with preemption off, so that both happen on the same CPU.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/pagemap.h>
#include <linux/uaccess.h>
#include <linux/mutex.h>
#include <linux/list.h>
#include <linux/sched/signal.h>
#include <linux/smp.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/cpuhotplug.h>
#include <asm/processor.h>
#include <asm/pgtable.h>
#include <asm/io.h>

#include "abi/bvmm.h"

/* INFO: at most one vm_info_result per VM, and every VM has a vCPU. */
#define BVMM_INFO_MAX (VMM_MAX_VCPUS * sizeof(struct vm_info_result))

/* Pages pinned per pin_user_pages() call: the mmap lock is dropped, and the CPU offered to
 * others, between such chunks. */
#define BVMM_PIN_CHUNK 512ul

struct bvmm_vm {			/* a VM created through this driver, and its pinned pages */
	struct list_head link;		/* in bvmm_vms (bvmm_vms_lock) */
	struct file *owner;		/* the creating file; NULL once it is released but TERM
					 * failed (bvmm_vms_lock) */
	struct vm_terminate_params term;	/* kernel memory for a TERM by the driver; the id */
	unsigned long npages;
	struct page **pages;
	struct mm_struct *mm;		/* charged for the pinned pages (locked_vm) */
	unsigned long charged;
};

/* Every VM this driver created that the hypervisor may still have. */
static LIST_HEAD(bvmm_vms);
static DEFINE_MUTEX(bvmm_vms_lock);	/* bvmm_vms, each record's owner; held across CREATE
					 * and TERM hypercalls (see the top of the file) */

/*
 * RUN_PHYS blocks (BVMM_IOC_RUN_BLOCK): the pages of a file's one mmap(), allocated here and
 * mapped shared into the caller, each holding a struct vm_run_block at its start. The
 * hypervisor is given a page's physical address: no user address, no pinning per RUN, and no
 * copy in or out (KVM's kvm_run page). The driver's reference keeps every page until the
 * file is released, which is after the last mapping is gone and no ioctl of the file runs.
 */
#define BVMM_BLOCKS_MAX 64ul

struct bvmm_blocks {
	unsigned long n;
	struct page *pages[BVMM_BLOCKS_MAX];
	phys_addr_t phys[BVMM_BLOCKS_MAX];	/* page_to_phys(pages[i]), once */
};

static DEFINE_MUTEX(bvmm_mmap_lock);	/* a file's first and only mmap() */

/* CPUs that carry the bvmm signature: set or cleared on the CPU itself, at load and by the
 * hotplug callbacks, so that a test on the running CPU with preemption off is exact. */
static struct cpumask bvmm_cpus;
static enum cpuhp_state bvmm_hp_state;

/*
 * The hypervisor's answer (0 or a positive Linux errno) as a kernel return value; ENXIO,
 * without a hypercall, on a CPU that does not run under bvmm (one brought online without
 * it). The test and the call are made on the same CPU; a RUN lasts until that CPU's next
 * interrupt at most, so preemption is held off no longer than by the call itself.
 */
static long bvmm_call(uint64_t op, void *params)
{
	uint64_t e;

	preempt_disable();
	if (!cpumask_test_cpu(smp_processor_id(), &bvmm_cpus)) {
		preempt_enable();
		return -ENXIO;
	}
	e = bvmm_hypercall(op, params);
	preempt_enable();
	return e > MAX_ERRNO ? -EIO : -(long)e;
}

static void bvmm_vm_free(struct bvmm_vm *vm)
{
	if (vm->npages)
		unpin_user_pages_dirty_lock(vm->pages, vm->npages, true);
	if (vm->charged)
		account_locked_vm(vm->mm, vm->charged, false);
	if (vm->mm)
		mmdrop(vm->mm);
	kvfree(vm->pages);
	kfree(vm);
}

/* Takes VM id's record out of the table; NULL if the driver has none. */
static struct bvmm_vm *bvmm_vm_unlink(uint32_t id)
{
	struct bvmm_vm *vm;

	lockdep_assert_held(&bvmm_vms_lock);
	list_for_each_entry(vm, &bvmm_vms, link) {
		if (vm->term.vtp_vm_id == id) {
			list_del(&vm->link);
			return vm;
		}
	}
	return NULL;
}

/*
 * TERM, bvmm_vms_lock held. Once the VM is gone (0, or ENOENT: the hypervisor does not
 * have it), its record leaves the table and is returned in *gone, to be freed after the
 * lock is dropped; otherwise *gone is NULL and the pages stay pinned.
 */
static long bvmm_term_locked(struct vm_terminate_params *p, struct bvmm_vm **gone)
{
	long e = bvmm_call(BVMM_OP_TERM, p);

	*gone = !e || e == -ENOENT ? bvmm_vm_unlink(p->vtp_vm_id) : NULL;
	return e;
}

/*
 * Guest memory must be anonymous, shmem or hugetlbfs: a long-term writable pin of an ordinary
 * file's page cache (which 6.1 still allows) lets the child write behind the filesystem.
 * Every page of [start, start + len) must lie in such a mapping. 0 or -EINVAL; mmap lock held.
 */
static int bvmm_check_vmas(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	unsigned long end = start + len, at = start;

	mmap_assert_locked(mm);
	if (end < start)
		return -EINVAL;
	while (at < end) {
		struct vm_area_struct *vma = vma_lookup(mm, at);

		if (!vma || !(vma_is_anonymous(vma) || is_vm_hugetlb_page(vma) ||
			      (vma->vm_file && shmem_file(vma->vm_file))))
			return -EINVAL;
		at = vma->vm_end;
	}
	return 0;
}

/*
 * Pins up to n pages from start. The mappings are checked under the same mmap lock as the
 * pinning: checked before and pinned after, another thread could map a file in between.
 * Returns the number of pages pinned (at least 1), -EINVAL (not such a mapping, not
 * present, not RAM), -ENOMEM or -EINTR.
 */
static long bvmm_pin(unsigned long start, unsigned long n, struct page **pages)
{
	struct mm_struct *mm = current->mm;
	long ret;

	if (fatal_signal_pending(current))
		return -EINTR;
	mmap_read_lock(mm);
	ret = bvmm_check_vmas(mm, start, n << PAGE_SHIFT);
	if (!ret)
		ret = pin_user_pages(start, n, FOLL_WRITE | FOLL_LONGTERM, pages, NULL);
	mmap_read_unlock(mm);
	if (ret <= 0 && ret != -ENOMEM)
		ret = -EINVAL;
	return ret;
}

static long bvmm_create(struct file *file, struct vm_create_params *p)
{
	uint64_t n = p->vcp_nmemranges, uva[VMM_MAX_MEM_RANGES];
	unsigned long npages[VMM_MAX_MEM_RANGES], total = 0;
	void *kva[VMM_MAX_MEM_RANGES] = { NULL };
	struct bvmm_vm *vm;
	uint64_t i;
	long ret;

	/* What the hypervisor would refuse anyway, checked before pinning anything. */
	if (n < 1 || n > VMM_MAX_MEM_RANGES || p->vcp_ncpus < 1 ||
	    p->vcp_ncpus > VMM_MAX_VCPUS_PER_VM)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		const struct vm_mem_range *r = &p->vcp_memranges[i];

		if (r->vmr_size > VMM_MAX_VM_MEM_SIZE || !r->vmr_size ||
		    !PAGE_ALIGNED(r->vmr_va) || !PAGE_ALIGNED(r->vmr_size) ||
		    r->vmr_va + r->vmr_size < r->vmr_va)
			return -EINVAL;
		npages[i] = r->vmr_size >> PAGE_SHIFT;
		total += npages[i];
	}
	if (total > VMM_MAX_VM_MEM_SIZE >> PAGE_SHIFT)
		return -EINVAL;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return -ENOMEM;
	vm->mm = current->mm;
	mmgrab(vm->mm);
	vm->pages = kvmalloc_array(total, sizeof(*vm->pages), GFP_KERNEL_ACCOUNT);
	ret = vm->pages ? account_locked_vm(vm->mm, total, true) : -ENOMEM;
	if (ret) {		/* no memory, or over RLIMIT_MEMLOCK */
		bvmm_vm_free(vm);
		return ret;
	}
	vm->charged = total;

	/* Pin each range and show the hypervisor a kernel mapping of exactly those pages. */
	for (i = 0; i < n; i++) {
		struct vm_mem_range *r = &p->vcp_memranges[i];
		struct page **pages = vm->pages + vm->npages;
		unsigned long done = 0;

		uva[i] = r->vmr_va;
		while (done < npages[i]) {
			ret = bvmm_pin(uva[i] + done * PAGE_SIZE,
				       min(npages[i] - done, BVMM_PIN_CHUNK), pages + done);
			if (ret < 0)
				goto out;
			done += ret;
			vm->npages += ret;
			cond_resched();
		}
		kva[i] = vmap(pages, npages[i], VM_MAP, PAGE_KERNEL);
		if (!kva[i]) {
			ret = -ENOMEM;
			goto out;
		}
		r->vmr_va = (uint64_t)(uintptr_t)kva[i];
	}

	/* The record enters the table under the same lock as the call that makes the id. */
	mutex_lock(&bvmm_vms_lock);
	ret = bvmm_call(BVMM_OP_CREATE, p);
	if (!ret) {
		vm->term.vtp_vm_id = p->vcp_id;
		vm->owner = file;
		list_add(&vm->link, &bvmm_vms);
	}
	mutex_unlock(&bvmm_vms_lock);
out:
	for (i = 0; i < n; i++) {
		if (kva[i]) {
			vunmap(kva[i]);
			p->vcp_memranges[i].vmr_va = uva[i];
		}
	}
	if (ret)
		bvmm_vm_free(vm);
	return ret;
}

/* CREATE's result could not be copied out (unmapped meanwhile): the id is lost, undo. The
 * parameters on the stack: kernel memory all the same (the hypervisor walks the kernel's
 * page tables, which map the stack). */
static void bvmm_create_undo(uint32_t id)
{
	struct vm_terminate_params t = { .vtp_vm_id = id };
	struct bvmm_vm *gone;

	mutex_lock(&bvmm_vms_lock);
	bvmm_term_locked(&t, &gone);	/* ENOENT: another thread terminated it already */
	mutex_unlock(&bvmm_vms_lock);
	if (gone)
		bvmm_vm_free(gone);
}

/*
 * RUN, the call a device model's loop lives on. Its parameters are in this call's stack
 * frame, not allocated per call, so that the hypervisor sees the same kernel addresses each
 * time (it keeps their translations); only the results (vrp_exit_reason, vrp_irqready) go
 * back. The exit buffer, when it lies in one page, is that page itself, pinned for the call
 * and shown to the hypervisor at its kernel address (it is then marked dirty): no copy of the
 * 600 bytes in or out, and still no user address given to the hypervisor. Otherwise it is
 * staged here: the copy starts as the caller's own buffer, since the hypervisor reads it after
 * an exit the caller answers (vrp_continue) and leaves alone the padding and the vrs groups
 * outside the vCPU's vpp_exit_regs, which must reach user space as the caller left them (and
 * no stack bytes may).
 */

static long bvmm_run(void __user *uarg)
{
	struct vm_run_params p;
	struct vm_exit x;
	struct vm_exit __user *uexit;
	unsigned long ua;
	struct page *pg;
	long ret;

	if (copy_from_user(&p, uarg, sizeof(p)))
		return -EFAULT;
	uexit = (struct vm_exit __user *)p.vrp_exit;
	ua = (unsigned long)uexit;
	/* Results are written back after the vCPU ran: check first that they can be, by
	 * writing the caller's own bytes there (they are outputs; this also breaks a COW). */
	if (copy_to_user((char __user *)uarg + VRP_OUT_OFF, (char *)&p + VRP_OUT_OFF, VRP_OUT_LEN))
		return -EFAULT;
	if (offset_in_page(ua) + sizeof(x) <= PAGE_SIZE && access_ok(uexit, sizeof(x)) &&
	    pin_user_pages_fast(ua & PAGE_MASK, 1, FOLL_WRITE, &pg) == 1) {
		p.vrp_exit = (struct vm_exit *)((char *)page_address(pg) + offset_in_page(ua));
		ret = bvmm_call(BVMM_OP_RUN, &p);
		unpin_user_pages_dirty_lock(&pg, 1, ret == 0);
	} else {
		/* Across pages, or a page that cannot be pinned: staged here. Never as a retry
		 * after the hypervisor's answer (the vCPU may have run by then). */
		if (fault_in_safe_writeable((const char __user *)uexit, sizeof(x)) ||
		    copy_from_user(&x, uexit, sizeof(x)))
			return -EFAULT;
		p.vrp_exit = &x;
		ret = bvmm_call(BVMM_OP_RUN, &p);
		if (!ret && copy_to_user(uexit, &x, sizeof(x)))
			ret = -EFAULT;
	}
	if (!ret && copy_to_user((char __user *)uarg + VRP_OUT_OFF, (char *)&p + VRP_OUT_OFF,
				 VRP_OUT_LEN))
		ret = -EFAULT;
	return ret;
}

static long bvmm_info(struct vm_info_params *p)
{
	struct vm_info_result __user *uinfo = (struct vm_info_result __user *)p->vip_info;
	uint64_t size = min_t(uint64_t, p->vip_size, BVMM_INFO_MAX);
	void *k;
	long ret;

	k = kvzalloc(max_t(uint64_t, size, sizeof(struct vm_info_result)), GFP_KERNEL);
	if (!k)
		return -ENOMEM;
	p->vip_size = size;	/* the clamp changes nothing: no more VMs than that exist */
	p->vip_info = k;
	ret = bvmm_call(BVMM_OP_INFO, p);
	p->vip_info = (struct vm_info_result *)uinfo;
	if (!ret && p->vip_info_ct &&
	    copy_to_user(uinfo, k, min_t(uint64_t, p->vip_size, size)))
		ret = -EFAULT;
	kvfree(k);
	return ret;
}

/* TERM through any file: the VM's pages are unpinned whichever file created it. */
static long bvmm_term(struct vm_terminate_params *p)
{
	struct bvmm_vm *gone;
	long ret;

	mutex_lock(&bvmm_vms_lock);
	ret = bvmm_term_locked(p, &gone);
	mutex_unlock(&bvmm_vms_lock);
	if (gone)
		bvmm_vm_free(gone);
	return ret;
}

/* RUN_PHYS on block `index` of the file's mapping: EINVAL if it has no such block. */
static long bvmm_run_block(struct file *file, unsigned long index)
{
	struct bvmm_blocks *b = smp_load_acquire((struct bvmm_blocks **)&file->private_data);

	if (!b || index >= b->n)
		return -EINVAL;
	return bvmm_call(BVMM_OP_RUN_PHYS, (void *)(uintptr_t)b->phys[index]);
}

static void bvmm_blocks_free(struct bvmm_blocks *b)
{
	for (unsigned long i = 0; i < b->n; i++)
		__free_page(b->pages[i]);
	kfree(b);
}

/*
 * mmap(): 1 to BVMM_BLOCKS_MAX pages at offset 0, shared (a private mapping would leave the
 * caller writing copies), once per file (EBUSY after that). The pages are zeroed.
 */
static int bvmm_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long n = vma_pages(vma);
	struct bvmm_blocks *b;
	int ret = 0;

	if (vma->vm_pgoff || !n || n > BVMM_BLOCKS_MAX || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	mutex_lock(&bvmm_mmap_lock);
	if (file->private_data) {
		ret = -EBUSY;
		goto out;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b) {
		ret = -ENOMEM;
		goto out;
	}
	for (b->n = 0; b->n < n; b->n++) {
		b->pages[b->n] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!b->pages[b->n]) {
			ret = -ENOMEM;
			break;
		}
		b->phys[b->n] = page_to_phys(b->pages[b->n]);
	}
	for (unsigned long i = 0; !ret && i < n; i++)
		ret = vm_insert_page(vma, vma->vm_start + i * PAGE_SIZE, b->pages[i]);
	if (ret) {
		/* Pages already inserted keep their own reference until the failed mmap's
		 * mapping is torn down: ours go now. */
		bvmm_blocks_free(b);
		goto out;
	}
	smp_store_release((struct bvmm_blocks **)&file->private_data, b);
out:
	mutex_unlock(&bvmm_mmap_lock);
	return ret;
}

static long bvmm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	size_t size = (cmd >> 16) & 0x1fff;	/* OpenBSD's IOCPARM_LEN */
	bool out;
	void *p;
	long ret;

	if (cmd == BVMM_IOC_RUN_BLOCK)
		return bvmm_run_block(file, arg);
	if (cmd == VMM_IOC_RUN)
		return bvmm_run(uarg);
	switch (cmd) {
	case VMM_IOC_CREATE:
	case VMM_IOC_INFO:
	case VMM_IOC_READREGS:
	case VMM_IOC_READVMPARAMS:
	case BVMM_IOC_HVINFO:
		out = true;
		break;
	case VMM_IOC_TERM:
	case VMM_IOC_RESETCPU:
	case VMM_IOC_INTR:
	case VMM_IOC_WRITEREGS:
	case VMM_IOC_WRITEVMPARAMS:
	case VMM_IOC_MPROTECT_EPT:
		out = false;
		break;
	default:
		return -ENOTTY;
	}

	/* Results are written back after the operation acted: check first (without writing)
	 * that they can be, as the hypervisor does before it acts. */
	if (out && fault_in_safe_writeable(uarg, size))
		return -EFAULT;
	p = memdup_user(uarg, size);
	if (IS_ERR(p))
		return PTR_ERR(p);
	switch (cmd) {
	case VMM_IOC_CREATE:
		ret = bvmm_create(file, p);
		break;
	case VMM_IOC_INFO:
		ret = bvmm_info(p);
		break;
	case VMM_IOC_TERM:
		ret = bvmm_term(p);
		break;
	case BVMM_IOC_HVINFO:
		ret = bvmm_call(BVMM_OP_HVINFO, p);
		break;
	default:		/* no pointers inside: the operation number is the ioctl's */
		ret = bvmm_call(cmd & 0xff, p);
		break;
	}
	if (!ret && out && copy_to_user(uarg, p, size)) {
		ret = -EFAULT;
		if (cmd == VMM_IOC_CREATE)
			bvmm_create_undo(((struct vm_create_params *)p)->vcp_id);
	}
	kfree(p);
	return ret;
}

static int bvmm_open(struct inode *inode, struct file *file)
{
	file->private_data = NULL;	/* misc_open() left the miscdevice there: the blocks go here */
	return nonseekable_open(inode, file);
}

/* The last reference is gone: no ioctl of this file runs (see the top). Its VMs go. */
static int bvmm_release(struct inode *inode, struct file *file)
{
	struct bvmm_vm *vm, *tmp, *gone;
	LIST_HEAD(freed);
	long e;

	mutex_lock(&bvmm_vms_lock);
	list_for_each_entry_safe(vm, tmp, &bvmm_vms, link) {
		if (vm->owner != file)
			continue;
		e = bvmm_term_locked(&vm->term, &gone);
		if (gone) {		/* vm itself, out of the table */
			list_add(&gone->link, &freed);
			continue;
		}
		/* Still exists: its pages must stay pinned. The record stays in the table, so
		 * that a later TERM through another file still unpins them. */
		vm->owner = NULL;
		pr_err("bvmm: TERM of vm %u at close failed (%ld); its %lu pages stay pinned\n",
		       vm->term.vtp_vm_id, e, vm->npages);
	}
	mutex_unlock(&bvmm_vms_lock);
	list_for_each_entry_safe(vm, tmp, &freed, link) {
		list_del(&vm->link);
		bvmm_vm_free(vm);
	}
	/* No mapping and no ioctl of the file is left: no RUN_PHYS can reach its blocks. */
	if (file->private_data)
		bvmm_blocks_free(file->private_data);
	return 0;
}

static const struct file_operations bvmm_fops = {
	.owner = THIS_MODULE,
	.open = bvmm_open,
	.release = bvmm_release,
	.unlocked_ioctl = bvmm_ioctl,
	.mmap = bvmm_mmap,
	.llseek = no_llseek,
};

static struct miscdevice bvmm_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmm",
	.fops = &bvmm_fops,
	.mode = 0600,
};

/* Run on the CPU to be checked: whether it runs under bvmm (the CPUID signature). */
static void bvmm_check_cpu(void *unused)
{
	unsigned int eax, ebx, ecx, edx;

	cpuid(BVMM_CPUID_BASE, &eax, &ebx, &ecx, &edx);
	if (ebx == BVMM_CPUID_SIG_EBX && ecx == BVMM_CPUID_SIG_ECX && edx == BVMM_CPUID_SIG_EDX)
		cpumask_set_cpu(smp_processor_id(), &bvmm_cpus);
	else
		cpumask_clear_cpu(smp_processor_id(), &bvmm_cpus);
}

/*
 * Hotplug, CPUHP_AP_ONLINE_DYN: called on the CPU coming online, before the scheduler puts
 * user tasks there. A CPU the hypervisor did not virtualize is reported, and the ioctls
 * answer ENXIO on it (bvmm_call) instead of faulting; it is not refused, since the CPU is
 * online for the rest of the system either way.
 */
static int bvmm_cpu_online(unsigned int cpu)
{
	bvmm_check_cpu(NULL);
	if (!cpumask_test_cpu(cpu, &bvmm_cpus))
		pr_err("bvmm: CPU %u came online without the bvmm signature at CPUID 0x40000000: it does not run under the hypervisor, /dev/vmm answers ENXIO there\n",
		       cpu);
	return 0;
}

static int bvmm_cpu_offline(unsigned int cpu)
{
	cpumask_clear_cpu(cpu, &bvmm_cpus);
	return 0;
}

/* Every online CPU must run under bvmm, checked with hotplug held off until the callbacks
 * are in place (so that no CPU comes online unchecked). 0 or -ENODEV. */
static int bvmm_check_cpus(void)
{
	unsigned int cpu;
	int ret;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		smp_call_function_single(cpu, bvmm_check_cpu, NULL, 1);
	if (cpumask_empty(&bvmm_cpus)) {
		pr_err("bvmm: not running under the bvmm hypervisor (no \"bvmm\" signature at CPUID 0x40000000); no /dev/vmm\n");
		ret = -ENODEV;
	} else if (!cpumask_subset(cpu_online_mask, &bvmm_cpus)) {
		pr_err("bvmm: CPUs %*pbl are online but only %*pbl run under bvmm (the others were not virtualized and would fault on a hypercall); no /dev/vmm\n",
		       cpumask_pr_args(cpu_online_mask), cpumask_pr_args(&bvmm_cpus));
		ret = -ENODEV;
	} else {
		ret = cpuhp_setup_state_nocalls_cpuslocked(CPUHP_AP_ONLINE_DYN, "bvmm:online",
							   bvmm_cpu_online, bvmm_cpu_offline);
		if (ret > 0) {
			bvmm_hp_state = ret;
			ret = 0;
		} else {
			pr_err("bvmm: no CPU hotplug state (%d); no /dev/vmm\n", ret);
			ret = ret ? ret : -ENODEV;
		}
	}
	cpus_read_unlock();
	return ret;
}

static int __init bvmm_init(void)
{
	struct vm_hvinfo_params *h;
	long e;
	int ret;

	ret = bvmm_check_cpus();
	if (ret)
		return ret;

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	ret = -ENOMEM;
	if (!h)
		goto fail;
	e = bvmm_call(BVMM_OP_HVINFO, h);
	ret = -ENODEV;
	if (e) {
		pr_err("bvmm: HVINFO failed (%ld); no /dev/vmm\n", e);
		goto fail;
	}
	if (h->vhi_abi_version != BVMM_ABI_VERSION) {
		pr_err("bvmm: hypervisor ABI version %u, this driver speaks %u; no /dev/vmm\n",
		       h->vhi_abi_version, BVMM_ABI_VERSION);
		goto fail;
	}
	pr_info("bvmm: ABI version %u, pool %llu KiB (%llu KiB free), CPUs %*pbl; /dev/vmm\n",
		h->vhi_abi_version, h->vhi_pool_size >> 10, h->vhi_pool_free >> 10,
		cpumask_pr_args(&bvmm_cpus));
	ret = misc_register(&bvmm_dev);
	if (ret) {
		pr_err("bvmm: misc_register failed (%d)\n", ret);
		goto fail;
	}
	kfree(h);
	return 0;
fail:
	kfree(h);
	cpuhp_remove_state_nocalls(bvmm_hp_state);
	return ret;
}

static void __exit bvmm_exit(void)
{
	misc_deregister(&bvmm_dev);
	cpuhp_remove_state_nocalls(bvmm_hp_state);
}

module_init(bvmm_init);
module_exit(bvmm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("/dev/vmm: the vmm(4) ioctls over bvmm hypercalls");
