package engine

// chunks is an append-only list stored in fixed-size blocks. The builder
// receives millions of license rows and grants without knowing how many will
// come; a plain slice would copy them on every doubling and briefly hold
// twice their size, which is what decides peak memory at a million users.
type chunks[T any] struct {
	blocks [][]T
	n      int
}

const chunkSize = 1 << 16

func (c *chunks[T]) add(v T) {
	if c.n%chunkSize == 0 {
		c.blocks = append(c.blocks, make([]T, 0, chunkSize))
	}
	last := &c.blocks[len(c.blocks)-1]
	*last = append(*last, v)
	c.n++
}

func (c *chunks[T]) len() int { return c.n }

// at returns a pointer to element i.
func (c *chunks[T]) at(i int) *T { return &c.blocks[i/chunkSize][i%chunkSize] }
