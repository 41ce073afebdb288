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
 * that is not pinned.) The pages stay pinned, per VM, in the file that created the VM until
 * TERM, or until that file is released, which terminates its VMs.
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
#include <linux/smp.h>
#include <linux/cpu.h>
#include <asm/processor.h>
#include <asm/pgtable.h>

#include "abi/bvmm.h"

/* INFO: at most one vm_info_result per VM, and every VM has a vCPU. */
#define BVMM_INFO_MAX (VMM_MAX_VCPUS * sizeof(struct vm_info_result))

struct bvmm_vm {			/* a VM this file created, and its pinned pages */
	struct list_head link;
	struct vm_terminate_params term;	/* kernel memory for the TERM at release */
	unsigned long npages;
	struct page **pages;
	struct mm_struct *mm;		/* charged for the pinned pages (locked_vm) */
	unsigned long charged;
};

struct bvmm_file {
	struct mutex lock;		/* protects vms */
	struct list_head vms;
};

/* The hypervisor's answer (0 or a positive Linux errno) as a kernel return value. */
static long bvmm_call(uint64_t op, void *params)
{
	uint64_t e = bvmm_hypercall(op, params);

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

/*
 * Guest memory must be anonymous, shmem or hugetlbfs: a long-term writable pin of an ordinary
 * file's page cache (which 6.1 still allows) lets the child write behind the filesystem.
 * Every page of [start, start + len) must lie in such a mapping. 0 or -EINVAL.
 */
static int bvmm_check_vmas(unsigned long start, unsigned long len)
{
	struct mm_struct *mm = current->mm;
	unsigned long end = start + len, at = start;
	int ret = 0;

	if (end < start)
		return -EINVAL;
	mmap_read_lock(mm);
	while (at < end) {
		struct vm_area_struct *vma = vma_lookup(mm, at);

		if (!vma || !(vma_is_anonymous(vma) || is_vm_hugetlb_page(vma) ||
			      (vma->vm_file && shmem_file(vma->vm_file)))) {
			ret = -EINVAL;
			break;
		}
		at = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

/* Takes VM id's record out of the file's list; NULL if this file did not create it. */
static struct bvmm_vm *bvmm_vm_take(struct bvmm_file *f, uint32_t id)
{
	struct bvmm_vm *vm, *found = NULL;

	mutex_lock(&f->lock);
	list_for_each_entry(vm, &f->vms, link) {
		if (vm->term.vtp_vm_id == id) {
			list_del(&vm->link);
			found = vm;
			break;
		}
	}
	mutex_unlock(&f->lock);
	return found;
}

/* TERM of a VM we hold the record of; the pages are unpinned once the VM is gone. */
static void bvmm_vm_term(struct bvmm_vm *vm)
{
	long e = bvmm_call(BVMM_OP_TERM, &vm->term);

	if (e && e != -ENOENT) {	/* still exists: its pages must stay pinned */
		pr_err("bvmm: TERM of vm %u failed (%ld); its %lu pages stay pinned\n",
		       vm->term.vtp_vm_id, e, vm->npages);
		return;
	}
	bvmm_vm_free(vm);
}

static long bvmm_create(struct bvmm_file *f, struct vm_create_params *p)
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
		    !PAGE_ALIGNED(r->vmr_va) || !PAGE_ALIGNED(r->vmr_size))
			return -EINVAL;
		if (bvmm_check_vmas(r->vmr_va, r->vmr_size))
			return -EINVAL;
		npages[i] = DIV_ROUND_UP(offset_in_page(r->vmr_va) + r->vmr_size, PAGE_SIZE);
		total += npages[i];
	}
	if (total > VMM_MAX_VM_MEM_SIZE >> PAGE_SHIFT)
		return -EINVAL;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return -ENOMEM;
	vm->mm = current->mm;
	mmgrab(vm->mm);
	vm->pages = kvmalloc_array(max(total, 1ul), sizeof(*vm->pages), GFP_KERNEL_ACCOUNT);
	ret = vm->pages ? account_locked_vm(vm->mm, total, true) : -ENOMEM;
	if (ret) {		/* no memory, or over RLIMIT_MEMLOCK */
		bvmm_vm_free(vm);
		return ret;
	}
	vm->charged = total;

	/* Pin each range and show the hypervisor a kernel mapping of exactly those pages (the
	 * offset within the first page kept, so that an unaligned vmr_va is still refused). */
	for (i = 0; i < n; i++) {
		struct vm_mem_range *r = &p->vcp_memranges[i];
		struct page **pages = vm->pages + vm->npages;
		unsigned long start = r->vmr_va & PAGE_MASK, done = 0;

		uva[i] = r->vmr_va;
		while (done < npages[i]) {
			/* 512 pages at a time, with a chance to reschedule between them. */
			ret = pin_user_pages_fast(start + done * PAGE_SIZE,
						  min(npages[i] - done, 512ul),
						  FOLL_WRITE | FOLL_LONGTERM, pages + done);
			if (ret <= 0) {		/* not present, not RAM, or no memory */
				ret = ret == -ENOMEM || ret == -EINTR ? ret : -EINVAL;
				goto out;
			}
			done += ret;
			vm->npages += ret;
			cond_resched();
		}
		if (!npages[i])
			continue;	/* an empty range: the hypervisor refuses it */
		kva[i] = vmap(pages, npages[i], VM_MAP, PAGE_KERNEL);
		if (!kva[i]) {
			ret = -ENOMEM;
			goto out;
		}
		r->vmr_va = (uint64_t)(uintptr_t)kva[i] + offset_in_page(uva[i]);
	}

	ret = bvmm_call(BVMM_OP_CREATE, p);
	if (!ret) {
		vm->term.vtp_vm_id = p->vcp_id;
		mutex_lock(&f->lock);
		list_add(&vm->link, &f->vms);
		mutex_unlock(&f->lock);
	}
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

static long bvmm_run(struct vm_run_params *p)
{
	struct vm_exit __user *uexit = (struct vm_exit __user *)p->vrp_exit;
	struct vm_exit *x;
	long ret;

	/* The exit too (see bvmm_ioctl). */
	if (fault_in_safe_writeable((const char __user *)uexit, sizeof(*x)))
		return -EFAULT;
	x = kzalloc(sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	ret = -EFAULT;
	if (p->vrp_continue && copy_from_user(x, uexit, sizeof(*x)))
		goto out;
	p->vrp_exit = x;
	ret = bvmm_call(BVMM_OP_RUN, p);
	p->vrp_exit = (struct vm_exit *)uexit;
	if (!ret && copy_to_user(uexit, x, sizeof(*x)))
		ret = -EFAULT;
out:
	kfree(x);
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

static long bvmm_term(struct bvmm_file *f, struct vm_terminate_params *p)
{
	long ret = bvmm_call(BVMM_OP_TERM, p);
	struct bvmm_vm *vm;

	if (!ret) {
		vm = bvmm_vm_take(f, p->vtp_vm_id);
		if (vm)
			bvmm_vm_free(vm);
	}
	return ret;
}

static long bvmm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct bvmm_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	size_t size = (cmd >> 16) & 0x1fff;	/* OpenBSD's IOCPARM_LEN */
	bool out;
	void *p;
	long ret;

	switch (cmd) {
	case VMM_IOC_CREATE:
	case VMM_IOC_RUN:
	case VMM_IOC_INFO:
	case VMM_IOC_READREGS:
	case VMM_IOC_READVMPARAMS:
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
		ret = bvmm_create(f, p);
		break;
	case VMM_IOC_RUN:
		ret = bvmm_run(p);
		break;
	case VMM_IOC_INFO:
		ret = bvmm_info(p);
		break;
	case VMM_IOC_TERM:
		ret = bvmm_term(f, p);
		break;
	default:		/* no pointers inside: the operation number is the ioctl's */
		ret = bvmm_call(cmd & 0xff, p);
		break;
	}
	if (!ret && out && copy_to_user(uarg, p, size)) {
		ret = -EFAULT;
		if (cmd == VMM_IOC_CREATE) {	/* unmapped meanwhile: the id is lost, undo */
			struct bvmm_vm *vm;

			vm = bvmm_vm_take(f, ((struct vm_create_params *)p)->vcp_id);
			if (vm)
				bvmm_vm_term(vm);
		}
	}
	kfree(p);
	return ret;
}

static int bvmm_open(struct inode *inode, struct file *file)
{
	struct bvmm_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	INIT_LIST_HEAD(&f->vms);
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int bvmm_release(struct inode *inode, struct file *file)
{
	struct bvmm_file *f = file->private_data;
	struct bvmm_vm *vm, *tmp;

	list_for_each_entry_safe(vm, tmp, &f->vms, link) {
		list_del(&vm->link);
		bvmm_vm_term(vm);
	}
	kfree(f);
	return 0;
}

static const struct file_operations bvmm_fops = {
	.owner = THIS_MODULE,
	.open = bvmm_open,
	.release = bvmm_release,
	.unlocked_ioctl = bvmm_ioctl,
	.llseek = no_llseek,
};

static struct miscdevice bvmm_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmm",
	.fops = &bvmm_fops,
	.mode = 0600,
};

/* Only CPUs running under bvmm can make a hypercall (elsewhere vmmcall raises #UD). */
static void bvmm_cpu_sig(void *ok)
{
	unsigned int eax, ebx, ecx, edx;

	cpuid(BVMM_CPUID_BASE, &eax, &ebx, &ecx, &edx);
	if (ebx != BVMM_CPUID_SIG_EBX || ecx != BVMM_CPUID_SIG_ECX || edx != BVMM_CPUID_SIG_EDX)
		*(bool *)ok = false;
}

static int __init bvmm_init(void)
{
	struct vm_hvinfo_params *h;
	unsigned int cpu;
	bool ok = true;
	long e;
	int ret;

	bvmm_cpu_sig(&ok);
	if (!ok) {
		pr_err("bvmm: not running under the bvmm hypervisor (no \"bvmm\" signature at CPUID 0x40000000); no /dev/vmm\n");
		return -ENODEV;
	}
	cpus_read_lock();
	for_each_online_cpu(cpu)
		smp_call_function_single(cpu, bvmm_cpu_sig, &ok, 1);
	cpus_read_unlock();
	if (!ok) {
		pr_err("bvmm: not every online CPU runs under bvmm (it virtualizes the boot CPU only; boot with one CPU); no /dev/vmm\n");
		return -ENODEV;
	}

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	e = bvmm_call(BVMM_OP_HVINFO, h);
	if (e || h->vhi_abi_version != BVMM_ABI_VERSION) {
		if (e)
			pr_err("bvmm: HVINFO failed (%ld); no /dev/vmm\n", e);
		else
			pr_err("bvmm: hypervisor ABI version %u, this driver speaks %u; no /dev/vmm\n",
			       h->vhi_abi_version, BVMM_ABI_VERSION);
		kfree(h);
		return -ENODEV;
	}
	pr_info("bvmm: ABI version %u, pool %llu KiB (%llu KiB free); /dev/vmm\n",
		h->vhi_abi_version, h->vhi_pool_size >> 10, h->vhi_pool_free >> 10);
	kfree(h);
	ret = misc_register(&bvmm_dev);
	if (ret)
		pr_err("bvmm: misc_register failed (%d)\n", ret);
	return ret;
}

static void __exit bvmm_exit(void)
{
	misc_deregister(&bvmm_dev);
}

module_init(bvmm_init);
module_exit(bvmm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("/dev/vmm: the vmm(4) ioctls over bvmm hypercalls");
