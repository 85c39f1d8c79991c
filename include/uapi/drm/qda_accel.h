/* SPDX-License-Identifier: MIT */
/*
 * qda: Qualcomm Hexagon DSPs (ADSP, CDSP, SDSP, GDSP) as DRM compute
 * accelerators, driven through the FastRPC protocol.
 *
 * Userspace ABI. The numbers and layouts below are the ones the QDA backend
 * of the FastRPC userspace library already speaks; they never change. New
 * requests get new numbers from 0x08 up.
 *
 * Buffers: a buffer reference of this ABI (&drm_qda_init_create.filefd,
 * &drm_qda_invoke_arg.fd, &drm_qda_map.fd, &drm_qda_munmap.fd) names the
 * buffer its pointer lies in: a GEM handle of the calling file (created
 * here or imported with DRM_IOCTL_PRIME_FD_TO_HANDLE) whose mmap holds the
 * pointer, or else a dma-buf fd whose mapping holds it, as with
 * drivers/misc/fastrpc.c. Without a pointer, a GEM handle of the calling
 * file is taken first. -1 and 0 mean "no buffer". A reference that names
 * no such buffer fails with -EBADF; the shell of INIT_CREATE is then
 * copied from &drm_qda_init_create.file instead.
 *
 * Each open file is one DSP process (attached or created once); the files
 * of one Linux process share its context bank (IOMMU domain), so their
 * buffers are visible to each of its DSP processes.
 */
#ifndef _QDA_ACCEL_H_
#define _QDA_ACCEL_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* Driver-private ioctl numbers, relative to DRM_COMMAND_BASE. */
#define DRM_QDA_QUERY			0x00
#define DRM_QDA_GEM_CREATE		0x01
#define DRM_QDA_GEM_MMAP_OFFSET		0x02
#define DRM_QDA_INIT_ATTACH		0x03
#define DRM_QDA_INIT_CREATE		0x04
#define DRM_QDA_MAP			0x05
#define DRM_QDA_MUNMAP			0x06
#define DRM_QDA_INVOKE			0x07
/* qda additions */
#define DRM_QDA_GEM_INFO		0x08
#define DRM_QDA_GEM_CREATE_EX		0x09
#define DRM_QDA_GET_ATTR		0x0a
#define DRM_QDA_INIT_CREATE_STATIC	0x0b
#define DRM_QDA_INIT_ATTACH_SNS		0x0c

/** Length of &drm_qda_query.dsp_name, including the terminating NUL. */
#define QDA_DSP_NAME_LEN		16

/**
 * struct drm_qda_query - Identify the DSP behind an accel node.
 *
 * Output only; the kernel writes every byte.
 */
struct drm_qda_query {
	/**
	 * @dsp_name: The device-tree "label" of the FastRPC node ("adsp",
	 * "cdsp", "cdsp1", "mdsp", "sdsp", "gdsp0", "gdsp1", ...), NUL
	 * terminated and NUL padded.
	 */
	__u8 dsp_name[QDA_DSP_NAME_LEN];
	/**
	 * @capabilities: Bit i set if DSP attribute i (see
	 * DRM_IOCTL_QDA_GET_ATTR) is non-zero, for i < 32; zero if the DSP
	 * could not be asked.
	 */
	__u32 capabilities;
};

/**
 * struct drm_qda_gem_create - Allocate a DSP-visible buffer object.
 */
struct drm_qda_gem_create {
	/** @size: Input: requested size in bytes, rounded up to pages. */
	__u64 size;
	/** @handle: Output: GEM handle of the new object. */
	__u32 handle;
	/**
	 * @pad: Ignored. The FastRPC library declares this struct without
	 * it, so these bytes are whatever its stack held.
	 */
	__u32 pad;
};

/**
 * struct drm_qda_gem_mmap_offset - Get the fake offset to mmap() a handle.
 *
 * Note that @handle comes first, unlike in &drm_qda_gem_create.
 */
struct drm_qda_gem_mmap_offset {
	/** @handle: Input: GEM handle (own or imported). */
	__u32 handle;
	/** @pad: Must be zero. */
	__u32 pad;
	/** @offset: Output: offset to pass to mmap() on the accel fd. */
	__u64 offset;
};

/** Process attribute: the DSP process runs with debug enabled. */
#define QDA_PROC_ATTR_DEBUG		(1 << 0)
/** Process attribute: privileged (unsigned PD) process. */
#define QDA_PROC_ATTR_PRIVILEGED	(1 << 6)

/** IOMMU domain hint: 32-bit intermediate physical addresses. */
#define QDA_IOMMU_DOMAIN_32BIT_IPA	1
/** IOMMU domain hint: 39-bit intermediate physical addresses. */
#define QDA_IOMMU_DOMAIN_39BIT_IPA	2

/**
 * struct drm_qda_init_create - Create a dynamic user process on the DSP.
 *
 * The ELF shell comes either from user memory (@file, @filelen) or from a
 * buffer object (@filefd; @file then points into its mmap, or is 0 for
 * the start of the buffer). -EALREADY if the file has a DSP process.
 */
struct drm_qda_init_create {
	/** @filelen: Length of the shell image in bytes. */
	__u32 filelen;
	/** @filefd: Buffer reference of the shell, or -1/0. */
	__s32 filefd;
	/** @attrs: QDA_PROC_ATTR_* flags. */
	__u32 attrs;
	/** @siglen: Length of the signature appended to the image. */
	__u32 siglen;
	/** @file: User pointer to the shell image. */
	__u64 file;
};

/** Longest name of a static process (&drm_qda_init_create_static.name). */
#define QDA_STATIC_PD_NAME_MAX		128

/**
 * struct drm_qda_init_create_static - Start a static process on the DSP.
 *
 * Static processes (e.g. the ADSP's audio PD, "audiopd") are built into
 * the DSP image. Their memory is the DSP's remote heap (the "remote-heap"
 * entry of the FastRPC node's memory-region), handed to the DSP with the
 * first create on a channel only; it outlives the daemon that created the
 * process. -ENODEV if the DSP has no remote heap, -EALREADY if the file
 * has a DSP process.
 */
struct drm_qda_init_create_static {
	/** @namelen: Length of @name in bytes, 1..=QDA_STATIC_PD_NAME_MAX. */
	__u32 namelen;
	/**
	 * @memlen: Requested heap size; ignored (the heap is the DT region),
	 * kept for the layout of the fastrpc.c request.
	 */
	__u32 memlen;
	/** @name: User pointer to the process name. */
	__u64 name;
};

/** MAP/MUNMAP request: legacy mapping (FastRPC MMAP/MUNMAP). */
#define QDA_MAP_REQUEST_LEGACY		1
/** MAP/MUNMAP request: mapping with SMMU attributes (MEM_MAP/MEM_UNMAP). */
#define QDA_MAP_REQUEST_ATTR		2

/**
 * struct drm_qda_map - Map memory into the DSP process.
 */
struct drm_qda_map {
	/** @request: QDA_MAP_REQUEST_*. */
	__u32 request;
	/** @flags: Mapping flags passed to the DSP. */
	__u32 flags;
	/**
	 * @fd: Buffer reference (with @vaddrin as its pointer) of the buffer
	 * to map; -1/0 for a legacy mapping of memory the kernel allocates.
	 */
	__s32 fd;
	/** @attrs: SMMU attributes (ATTR requests). */
	__u32 attrs;
	/** @offset: Offset into the dma-buf (ATTR requests). */
	__u32 offset;
	/** @reserved: Must be zero. */
	__u32 reserved;
	/** @vaddrin: Virtual address of the buffer in the caller. */
	__u64 vaddrin;
	/** @size: Size of the mapping in bytes. */
	__u64 size;
	/** @vaddrout: Output: the DSP virtual address of the mapping. */
	__u64 vaddrout;
};

/**
 * struct drm_qda_munmap - Undo a &drm_qda_map.
 */
struct drm_qda_munmap {
	/** @request: QDA_MAP_REQUEST_*. */
	__u32 request;
	/** @fd: @fd of the mapping (ATTR requests). */
	__s32 fd;
	/**
	 * @vaddr: The DSP address &drm_qda_map.vaddrout returned (ATTR
	 * requests).
	 */
	__u64 vaddr;
	/** @vaddrout: DSP virtual address (LEGACY requests). */
	__u64 vaddrout;
	/** @size: Size of the mapping in bytes. */
	__u64 size;
};

/**
 * struct drm_qda_invoke_arg - One argument of a remote call.
 */
struct drm_qda_invoke_arg {
	/** @ptr: User pointer to the argument's bytes. */
	__u64 ptr;
	/** @length: Length of the argument in bytes. */
	__u64 length;
	/**
	 * @fd: Buffer reference of the buffer @ptr points into (passed zero
	 * copy), or -1/0 to copy the bytes inline. For handle arguments
	 * (after the buffers), the buffer passed; @ptr is then the offset
	 * into it.
	 */
	__s32 fd;
	/** @attr: Argument attributes. */
	__u32 attr;
};

/**
 * struct drm_qda_invoke - Call a method on a remote handle.
 *
 * Existing userspace encodes DRM_IOCTL_QDA_INVOKE with the size of
 * &struct drm_qda_invoke_arg (24 bytes) instead of this 16-byte struct.
 * Both encodings are accepted; the kernel reads and writes only these
 * 16 bytes.
 */
struct drm_qda_invoke {
	/** @handle: Remote handle; 1 (process control) is kernel-only. */
	__u32 handle;
	/** @sc: Scalars: see QDA_BUILD_SCALARS(). */
	__u32 sc;
	/** @args: User pointer to an array of &struct drm_qda_invoke_arg. */
	__u64 args;
};

/**
 * QDA_BUILD_SCALARS() - Encode a method id and argument counts.
 *
 * Bits 31..29 attributes, 28..24 method, 23..16 input buffers,
 * 15..8 output buffers, 7..4 input handles, 3..0 output handles.
 */
#define QDA_BUILD_SCALARS(attr, method, in, out, oin, oout) \
	((((__u32)(attr) & 0x7) << 29) | (((__u32)(method) & 0x1f) << 24) | \
	 (((__u32)(in) & 0xff) << 16) | (((__u32)(out) & 0xff) << 8) | \
	 (((__u32)(oin) & 0x0f) << 4) | ((__u32)(oout) & 0x0f))
#define QDA_SCALARS(method, in, out) QDA_BUILD_SCALARS(0, method, in, out, 0, 0)

/** Memory backend: DMA-coherent memory of the process's context bank. */
#define QDA_MEM_DMA_COHERENT		1
/** Memory backend: the DSP's contiguous (CMA) pool. */
#define QDA_MEM_CMA			2
/** Memory backend: a reserved (no-map) carve-out. */
#define QDA_MEM_CARVEOUT		3
/** Memory backend: a dma-buf imported from another exporter. */
#define QDA_MEM_IMPORTED		4

/**
 * struct drm_qda_gem_info - Where a buffer object lives.
 */
struct drm_qda_gem_info {
	/** @handle: Input: GEM handle (own or imported). */
	__u32 handle;
	/** @backend: Output: QDA_MEM_* backend of the memory. */
	__u32 backend;
	/** @size: Output: size in bytes. */
	__u64 size;
	/**
	 * @dsp_addr: Output: the address the DSP uses for the buffer in the
	 * calling process's session: IOVA | SID << 32.
	 */
	__u64 dsp_addr;
};

/**
 * struct drm_qda_gem_create_ex - Allocate a buffer object from a chosen
 * memory backend.
 */
struct drm_qda_gem_create_ex {
	/** @size: Input: requested size in bytes, rounded up to pages. */
	__u64 size;
	/** @handle: Output: GEM handle of the new object. */
	__u32 handle;
	/**
	 * @backend: Input: QDA_MEM_DMA_COHERENT, QDA_MEM_CMA or
	 * QDA_MEM_CARVEOUT; 0 for the default (DMA-coherent). -ENODEV if the
	 * DSP has no such memory.
	 */
	__u32 backend;
};

/** Number of DSP attributes (&drm_qda_get_attr.attribute_id < this). */
#define QDA_DSP_ATTRIBUTES		256

/**
 * struct drm_qda_get_attr - One DSP attribute.
 *
 * The DSP's capability query (remote handle 2) is answered once and
 * cached. Attribute 0 is always 0.
 */
struct drm_qda_get_attr {
	/** @attribute_id: Input: attribute, below QDA_DSP_ATTRIBUTES. */
	__u32 attribute_id;
	/** @value: Output: its value. */
	__u32 value;
};

/*
 * The ioctl requests. This is an enum so that Rust bindgen can evaluate
 * them.
 */
enum {
	DRM_IOCTL_QDA_QUERY =
		DRM_IOR(DRM_COMMAND_BASE + DRM_QDA_QUERY, struct drm_qda_query),
	DRM_IOCTL_QDA_GEM_CREATE =
		DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_GEM_CREATE,
			 struct drm_qda_gem_create),
	DRM_IOCTL_QDA_GEM_MMAP_OFFSET =
		DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_GEM_MMAP_OFFSET,
			 struct drm_qda_gem_mmap_offset),
	DRM_IOCTL_QDA_INIT_ATTACH =
		DRM_IO(DRM_COMMAND_BASE + DRM_QDA_INIT_ATTACH),
	DRM_IOCTL_QDA_INIT_CREATE =
		DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_INIT_CREATE,
			 struct drm_qda_init_create),
	DRM_IOCTL_QDA_MAP =
		DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_MAP, struct drm_qda_map),
	DRM_IOCTL_QDA_MUNMAP =
		DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_MUNMAP,
			 struct drm_qda_munmap),
	DRM_IOCTL_QDA_INVOKE =
		DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_INVOKE,
			 struct drm_qda_invoke),
	DRM_IOCTL_QDA_GEM_INFO =
		DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_GEM_INFO,
			 struct drm_qda_gem_info),
	DRM_IOCTL_QDA_GEM_CREATE_EX =
		DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_GEM_CREATE_EX,
			 struct drm_qda_gem_create_ex),
	DRM_IOCTL_QDA_GET_ATTR =
		DRM_IOWR(DRM_COMMAND_BASE + DRM_QDA_GET_ATTR,
			 struct drm_qda_get_attr),
	DRM_IOCTL_QDA_INIT_CREATE_STATIC =
		DRM_IOW(DRM_COMMAND_BASE + DRM_QDA_INIT_CREATE_STATIC,
			struct drm_qda_init_create_static),
	DRM_IOCTL_QDA_INIT_ATTACH_SNS =
		DRM_IO(DRM_COMMAND_BASE + DRM_QDA_INIT_ATTACH_SNS),
};

#if defined(__cplusplus)
}
#endif

#endif /* _QDA_ACCEL_H_ */
