//go:build !unix

package fileroots

const noFollow = 0
