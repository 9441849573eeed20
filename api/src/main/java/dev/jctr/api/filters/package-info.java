/** containerd's filter language for List calls and event subscriptions. */
package dev.jctr.api.filters;
