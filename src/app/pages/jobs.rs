//! The admin's view of the durable job queue (`/admin/jobs`): counts per kind and state, the
//! periodic jobs, the jobs themselves, and running a given-up job again.

use super::signed_in_admin;
use crate::app::components::{FormError, PageHeader, action_error};
use crate::app::format;
use crate::app::job_types::{JOB_STATES, Job, JobPage};
use crate::app::layout::Shell;
use crate::app::server_fns::admin::{RetryJob, load_jobs};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn state_badge(state: &str) -> &'static str {
    match state {
        "done" => "badge badge-green",
        "dead" => "badge badge-red",
        "running" => "badge badge-blue",
        _ => "badge badge-gray",
    }
}

fn jobs_href(state: &str, page: i64) -> String {
    match (state.is_empty(), page > 1) {
        (true, false) => "/admin/jobs".into(),
        (true, true) => format!("/admin/jobs?page={page}"),
        (false, false) => format!("/admin/jobs?state={state}"),
        (false, true) => format!("/admin/jobs?state={state}&page={page}"),
    }
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let user = match signed_in_admin() {
        Ok(user) => user,
        Err(instead) => return instead,
    };
    let query = use_query_map().get_untracked();
    let state = query
        .get("state")
        .filter(|s| JOB_STATES.contains(&s.as_str()))
        .unwrap_or_default();
    let page = crate::app::pages::page_param(&query);
    let retried = query.get("retried");
    let retry = ServerAction::<RetryJob>::new();
    let jobs = Resource::new(
        {
            let state = state.clone();
            move || (state.clone(), page)
        },
        |(state, page)| load_jobs(state, page),
    );
    view! {
        <Title text="Jobs"/>
        <Shell user=Some(user)>
            <PageHeader title="Jobs" subtitle="Background work that survives restarts: notices, deliveries and scans, with their retries.".to_string()>
                <a class="btn btn-secondary" href="/admin">"Users"</a>
                <a class="btn btn-secondary" href="/admin/system">"System"</a>
            </PageHeader>
            {retried.map(|id| view! {
                <div class="alert alert-success" role="status">{format!("Job {id} is queued again and runs within moments.")}</div>
            })}
            <FormError error=action_error(retry.value().get_untracked())/>
            <Suspense fallback=|| view! { <p class="muted">"Loading jobs…"</p> }>
                {move || jobs.get().map(|result| match result {
                    Ok(list) => view! { <JobsView list=list state=state.clone() retry=retry/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                })}
            </Suspense>
        </Shell>
    }
    .into_any()
}

#[component]
fn JobsView(list: JobPage, state: String, retry: ServerAction<RetryJob>) -> impl IntoView {
    let counts = list.counts.clone();
    let schedules = list.schedules.clone();
    let pages = (list.total + list.per_page - 1) / list.per_page;
    let prev = (list.page > 1).then(|| jobs_href(&state, list.page - 1));
    let next = (list.page < pages).then(|| jobs_href(&state, list.page + 1));
    view! {
        <section class="card">
            <h2>"Queue"</h2>
            {if counts.is_empty() {
                view! { <p class="muted">"No jobs yet. They appear as keys change, notices fall due and deliveries are made."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table class="table">
                        <thead><tr><th scope="col">"Kind"</th><th scope="col">"State"</th><th scope="col">"Jobs"</th><th scope="col">"Due now"</th></tr></thead>
                        <tbody>{counts.into_iter().map(|c| view! {
                            <tr><td class="mono">{c.kind}</td><td><span class=state_badge(&c.state)>{c.state.clone()}</span></td><td>{c.count}</td><td>{c.due}</td></tr>
                        }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
            {(!schedules.is_empty()).then(|| view! {
                <h3>"Periodic"</h3>
                <ul>{schedules.into_iter().map(|s| view! {
                    <li><span class="mono">{s.kind}</span>" — next run "{format::datetime(s.next_run_at)}</li>
                }).collect_view()}</ul>
            })}
        </section>
        <section class="card">
            <nav class="row" aria-label="Filter by state">
                <a class="btn btn-ghost" href="/admin/jobs" aria-current=state.is_empty().then_some("page")>"All"</a>
                {JOB_STATES.into_iter().map(|s| view! {
                    <a class="btn btn-ghost" href=jobs_href(s, 1) aria-current=(state == s).then_some("page")>{s}</a>
                }).collect_view()}
            </nav>
            {if list.items.is_empty() {
                view! { <div class="empty-state"><h3>"No jobs here"</h3><p>"Nothing in this state right now."</p></div> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table class="table">
                        <thead><tr><th scope="col">"Id"</th><th scope="col">"Kind"</th><th scope="col">"State"</th><th scope="col">"Tries"</th><th scope="col">"Due"</th><th scope="col">"Last error"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                        <tbody>{list.items.into_iter().map(|job| view! { <JobRowView job=job retry=retry/> }).collect_view()}</tbody>
                    </table></div>
                }.into_any()
            }}
            <nav class="row" aria-label="Pagination">
                <span class="muted">{format!("{} job{} · page {} of {}", list.total, if list.total == 1 { "" } else { "s" }, list.page, pages.max(1))}</span>
                {prev.map(|href| view! { <a class="btn btn-ghost" href=href>"← Previous"</a> })}
                {next.map(|href| view! { <a class="btn btn-ghost" href=href>"Next →"</a> })}
            </nav>
        </section>
    }
}

#[component]
fn JobRowView(job: Job, retry: ServerAction<RetryJob>) -> impl IntoView {
    let dead = job.state == "dead";
    view! {
        <tr>
            <td class="mono">{job.id}</td>
            <td class="mono">{job.kind.clone()}</td>
            <td><span class=state_badge(&job.state)>{job.state.clone()}</span></td>
            <td>{format!("{} of {}", job.attempts, job.max_attempts)}</td>
            <td>{format::datetime(job.run_at)}</td>
            <td class="muted">{job.last_error.clone().unwrap_or_default()}</td>
            <td>{dead.then(|| view! {
                <ActionForm action=retry>
                    <input type="hidden" name="id" value=job.id/>
                    <button class="btn btn-secondary" type="submit" aria-label=format!("Run job {} again", job.id)>"Run again"</button>
                </ActionForm>
            })}</td>
        </tr>
    }
}
