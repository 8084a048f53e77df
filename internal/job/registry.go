package job

import (
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// Registry collects what packages contribute before a Client starts:
// workers, the queues they run on, and periodic schedules.
type Registry struct {
	workers  *river.Workers
	queues   map[string]river.QueueConfig
	periodic []*river.PeriodicJob
	kinds    map[string]bool
}

// NewRegistry returns an empty registry with River's default queue.
func NewRegistry() *Registry {
	return &Registry{
		workers: river.NewWorkers(),
		queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		kinds:   map[string]bool{},
	}
}

// Register adds a worker for the job kind of T. Registering a kind twice is
// a programming error and is reported, not silently overwritten.
func Register[T river.JobArgs](r *Registry, w river.Worker[T]) error {
	var zero T
	if r.kinds[zero.Kind()] {
		return fmt.Errorf("job: kind %q registered twice", zero.Kind())
	}
	if err := river.AddWorkerSafely(r.workers, w); err != nil {
		return fmt.Errorf("job: register %q: %w", zero.Kind(), err)
	}
	r.kinds[zero.Kind()] = true
	return nil
}

// Queue declares a queue and how many jobs of it one process works at once.
func (r *Registry) Queue(name string, maxWorkers int) {
	r.queues[name] = river.QueueConfig{MaxWorkers: maxWorkers}
}

// Every schedules a job at a fixed interval. construct is called at each tick
// and may return nil args to skip that tick.
func (r *Registry) Every(interval time.Duration, construct func() (river.JobArgs, *river.InsertOpts), runOnStart bool) {
	r.periodic = append(r.periodic, river.NewPeriodicJob(river.PeriodicInterval(interval), construct,
		&river.PeriodicJobOpts{RunOnStart: runOnStart}))
}

// Kinds lists the registered job kinds.
func (r *Registry) Kinds() []string {
	out := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		out = append(out, k)
	}
	return out
}
